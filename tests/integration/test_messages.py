"""Errors a person reads in one line, naming the option or setting, before any work
(issue: runs that cannot trip over each other). Each message is checked by its text."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from forecasting.cli import main
from forecasting.db import make_engine
from forecasting.sources import load_shop

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("forecasting"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
FAST = ["--models", "seasonal_naive,linear", "--history-days", "420", "--horizon", "14"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err and "http" not in err, err
    return err


def test_bad_model_params_stop_before_extraction_starts(
    small_shop, sqlite_url: str, tmp_path: Path, capsys
) -> None:
    load_shop(make_engine(sqlite_url), small_shop)
    data = tmp_path / "data"
    common = ["run", "--date", "2024-06-30", "--data-root", str(data), "--source-url", sqlite_url]
    err = run(capsys, *common, "--model-params", '{"hgb": {"max_iter": -5}}')
    assert err == (
        "forecasting run: error: --model-params: hgb.max_iter must be an integer >= 1 (got -5)"
    )
    assert not (data / "storage").exists() and not (data / "mlflow.db").exists()

    err = run(capsys, *common, "--model-params", "not json")
    assert err == (
        "forecasting run: error: --model-params is not valid JSON: Expecting value: line 1 "
        "column 1 (char 0)"
    )
    err = run(capsys, *common, "--shards", "0")
    assert (
        err
        == "forecasting run: error: --shards: input should be greater than or equal to 1 (got 0)"
    )
    err = run(capsys, *common, "--models", "seasonal_naive,prophet")
    assert err.startswith(
        "forecasting run: error: --models: unknown models ['prophet']; choose from"
    )
    assert not (data / "storage").exists()  # none of them read or wrote anything


def test_a_storage_uri_below_a_file_names_the_setting(
    small_shop, sqlite_url: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    load_shop(make_engine(sqlite_url), small_shop)
    (tmp_path / "afile").write_text("a file, not a folder")
    monkeypatch.setenv("FORECASTING_STORAGE_URI", str(tmp_path / "afile" / "storage"))
    err = run(
        capsys,
        *["run", "--date", "2024-06-30", "--data-root", str(tmp_path / "data")],
        *["--source-url", sqlite_url, *FAST],
    )
    assert err == (
        f"forecasting run: error: FORECASTING_STORAGE_URI={tmp_path / 'afile' / 'storage'} is "
        f"not a writable folder: Not a directory ({tmp_path / 'afile' / 'storage'})"
    )


def test_a_data_folder_below_a_file_names_the_setting(tmp_path: Path, capsys) -> None:
    (tmp_path / "afile").write_text("x")
    err = run(capsys, "summary", "--date", "2024-06-30", "--data-root", str(tmp_path / "afile/d"))
    assert err == (
        f"forecasting summary: error: FORECASTING_DATA_DIR={tmp_path / 'afile' / 'd'} (or "
        "--data-root) is not a writable folder: Not a directory"
    )


@pytest.fixture()
def small_disk(tmp_path: Path):
    """A 256 KiB tmpfs: a disk that fills up mid-run."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:  # pragma: no cover - needs root (CI runs as root)
        message = f"cannot mount a small tmpfs: {done.stderr.decode().strip()}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_names_the_stage_and_the_file(
    small_shop, sqlite_url: str, tmp_path: Path, small_disk: Path
) -> None:
    load_shop(make_engine(sqlite_url), small_shop)
    # Fill the disk but for a sliver: the run's first writes find it full.
    (small_disk / "ballast").write_bytes(b"\0" * (200 * 1024))
    env = {**os.environ, "FORECASTING_STORAGE_URI": str(small_disk / "storage")}
    data = ["--data-root", str(tmp_path / "data"), "--source-url", sqlite_url]
    done = subprocess.run(
        [CLI, "run", "--date", "2024-06-30", *data, *FAST],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    err = done.stderr.strip().splitlines()
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert err[-1].startswith("forecasting run: error: no space left on device: "), err
    assert str(small_disk / "storage") in err[-1]  # the file it could not write
    assert err[-1].endswith("; free space on that disk and run the date again")
