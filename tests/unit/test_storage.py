"""The stage commit protocol when writers overlap: clean-up never deletes what a live
writer may still commit, and ``_COMMITTED`` never names a missing attempt."""

from __future__ import annotations

import errno
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from upath import UPath

from forecasting.errors import NonRetryableError
from forecasting.storage import (
    ATTEMPT_GRACE,
    Storage,
    StorageConflictError,
    StorageFullError,
    StorageUnavailableError,
    read_json,
    remove_leftovers,
    write_json,
)

DAY = date(2024, 6, 30)


def _storage(tmp_path: Path, fence=None) -> Storage:
    return Storage(UPath(tmp_path / "storage"), fence)


def _attempts(storage: Storage, stage: str = "validate") -> list[str]:
    return sorted(p.name for p in storage.stage_dir(DAY, stage).glob("attempt=*"))


def test_two_writers_of_a_stage_interleaved_leave_a_consistent_pointer(tmp_path: Path) -> None:
    """The reported race: run A seals its attempt, run B commits and cleans up, then A
    commits. B must not delete A's attempt, so A's pointer names something that exists."""
    storage = _storage(tmp_path)
    a = storage.write_stage(DAY, "validate")
    folder_a = a.__enter__()
    write_json(folder_a / "validation.json", {"run": "a"})
    with storage.write_stage(DAY, "validate") as folder_b:
        write_json(folder_b / "validation.json", {"run": "b"})
    assert folder_a.exists()  # young: another writer may still commit it
    a.__exit__(None, None, None)
    committed = storage.committed(DAY, "validate")
    assert committed is not None and committed.name == folder_a.name
    assert read_json(committed / "validation.json") == {"run": "a"}
    assert storage.verify(DAY) == []


def test_clean_up_removes_only_old_leftovers_and_never_the_committed_attempt(
    tmp_path: Path,
) -> None:
    storage = _storage(tmp_path)
    folder = storage.stage_dir(DAY, "extract")
    old = folder / "attempt=20200101T000000Z-000000000000"  # a killed writer, long gone
    (old / "part").mkdir(parents=True)
    legacy = folder / "attempt=0123456789ab"  # a name from before attempt times
    legacy.mkdir()
    with storage.write_stage(DAY, "extract") as current:
        (current / "x").write_text("1")
    assert _attempts(storage, "extract") == [current.name]
    # Even an old committed attempt stays: the pointer names it.
    later = datetime.now(UTC) + ATTEMPT_GRACE + timedelta(minutes=1)
    assert remove_leftovers(folder, now=later) == 0
    assert storage.committed(DAY, "extract") == current


def test_a_pointer_to_a_missing_attempt_is_reported_and_repaired(tmp_path: Path) -> None:
    storage = _storage(tmp_path)
    with storage.write_stage(DAY, "check") as folder:
        write_json(folder / "validation.json", {})
    pointer = storage.stage_dir(DAY, "check") / "_COMMITTED"
    write_json(pointer, {"attempt": "attempt=20240101T000000Z-deadbeef0000"})
    with pytest.raises(StorageConflictError, match="which is missing: run the date again"):
        storage.committed(DAY, "check")
    problems = storage.verify(DAY)
    assert len(problems) == 1 and "names attempt=20240101T000000Z-deadbeef0000" in problems[0]
    assert storage.verify(DAY, repair=True)[0].endswith("pointer removed, the stage runs again")
    assert storage.committed(DAY, "check") is None and storage.verify(DAY) == []


def test_a_run_that_lost_its_fence_never_commits(tmp_path: Path) -> None:
    class Lost(NonRetryableError):
        pass

    def fence() -> None:
        raise Lost("lease taken over")

    storage = _storage(tmp_path)
    with storage.write_stage(DAY, "score") as folder:
        write_json(folder / "model.json", {"v": 1})
    first = storage.committed(DAY, "score")
    with pytest.raises(Lost), storage.fenced(fence).write_stage(DAY, "score") as folder:
        write_json(folder / "model.json", {"v": 2})
    assert storage.committed(DAY, "score") == first


def test_an_attempt_deleted_under_its_writer_is_named_not_committed(tmp_path: Path) -> None:
    import shutil

    storage = _storage(tmp_path)
    with (
        pytest.raises(StorageConflictError, match="was deleted while this task wrote it"),
        storage.fenced(lambda: shutil.rmtree(folder)).write_stage(DAY, "fit") as folder,
    ):
        write_json(folder / "fit.json", {})
    assert storage.committed(DAY, "fit") is None


def test_a_full_disk_names_the_stage_and_the_file(tmp_path: Path) -> None:
    storage = _storage(tmp_path)
    with (
        pytest.raises(StorageFullError) as failure,
        storage.write_stage(DAY, "features", "shard=0-of-1") as folder,
    ):
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "panel"))
    message = str(failure.value)
    assert message.startswith("no space left on device: stage features shard=0-of-1 of 2024")
    assert "/panel" in message and str(storage.root) in message
    assert storage.committed(DAY, "features", "shard=0-of-1") is None


def test_a_storage_root_below_a_file_is_named_by_its_setting(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a folder")
    storage = Storage(UPath(tmp_path / "afile" / "storage"))
    with pytest.raises(StorageUnavailableError) as failure:
        storage.check_writable()
    assert str(failure.value).startswith(
        f"FORECASTING_STORAGE_URI={tmp_path / 'afile' / 'storage'} is not a writable folder: "
        "Not a directory"
    )
    storage = _storage(tmp_path)
    storage.check_writable()
    assert list(storage.root.iterdir()) == []  # the probe is gone


def test_attempt_names_carry_their_creation_time(tmp_path: Path) -> None:
    storage = _storage(tmp_path)
    with storage.write_stage(DAY, "report") as folder:
        pass
    stamp = folder.name.removeprefix("attempt=").split("-")[0]
    created = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - created).total_seconds()) < 60
    assert json.loads((folder / "_SUCCESS").read_text()) == {"files": {}}
