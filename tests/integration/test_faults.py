"""Faults: kill -9 anywhere, and outages of MariaDB and of the MLflow store.

Kills: the pipeline process is killed (SIGKILL) at random points -- the whole run, the
publishing transaction on MariaDB, the commit of a partition on storage -- and after each
kill the published table holds exactly the previous run's rows or exactly the new run's,
no partial partition is trusted, and ``@champion`` points at a fully registered version.
After the next complete run no temporary folder is left and no MLflow run is RUNNING.

Outages: a TCP proxy between the pipeline and MariaDB is cut mid-extract and mid-publish;
the MLflow store is pointed at a port where nothing listens.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import sqlalchemy as sa
from upath import UPath

from forecasting.config import EXPERIMENT_NAME, REGISTERED_MODEL_NAME, PipelineConfig, Settings
from forecasting.db import DatabaseUnavailableError, make_engine
from forecasting.publishing import PublishedRun, publish_forecasts, read_published
from forecasting.registry.models import RegistryUnavailableError, get_champion, get_version
from forecasting.registry.tracking import configure_mlflow
from forecasting.resources import Resources
from forecasting.sources import load_shop
from forecasting.storage import (
    ATTEMPT_GRACE,
    PartialOutputError,
    Storage,
    read_json,
    remove_leftovers,
)

from .test_trust import add_line

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAY = date(2024, 6, 30)
CLI = str(Path(sys.executable).with_name("forecasting"))
RUN_ARGS = [
    "run",
    "--date",
    "2024-06-30",
    "--models",
    "seasonal_naive,linear",
    "--horizon",
    "14",
    "--n-windows",
    "2",
    "--history-days",
    "420",
    "--model-params",
    '{"linear": {"max_origins": 10}}',
]


def cli_env(data: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORECASTING_", "MLFLOW_T"))}
    env.update({"FORECASTING_DATA_DIR": str(data), "FORECASTING_SOURCE_URL": url})
    return env


def published(engine: sa.Engine) -> pd.DataFrame:
    return read_published(engine, DAY)[0]


def assert_whole_frame(now: pd.DataFrame, candidates: list[pd.DataFrame]) -> int:
    """``now`` is exactly one of the candidates (a complete run's rows); returns which."""
    for i, rows in enumerate(candidates):
        if len(now) == len(rows) and now.equals(rows):
            return i
    raise AssertionError(f"the table holds a mix: {len(now)} rows, not any complete run's")


def restore(engine: sa.Engine, rows: pd.DataFrame) -> None:
    """Publish ``rows`` (as read back from the table) again: the state before a run."""
    forecasts = rows.rename(columns={"target_date": "ds"}).assign(
        unique_id=lambda f: f["sku"] + "@" + f["location_id"]
    )
    first = rows.iloc[0]
    run = PublishedRun(
        DAY,
        first["model_name"],
        str(first["model_version"]),
        "restored",
        14,
        int(forecasts["unique_id"].nunique()),
        len(forecasts),
    )
    publish_forecasts(engine, forecasts, run)


def champion_is_whole(settings: Settings) -> None:
    configure_mlflow(settings.tracking_uri, settings.artifact_root, EXPERIMENT_NAME)
    champion = get_champion(REGISTERED_MODEL_NAME)
    assert champion is not None
    version = mlflow.MlflowClient().get_model_version(REGISTERED_MODEL_NAME, champion.version)
    assert version.status == "READY"
    assert get_version(REGISTERED_MODEL_NAME, champion.version).data_end is not None


def test_kill_9_anywhere_leaves_old_or_new_rows_never_a_mix(
    small_shop, mysql_url: str, tmp_path: Path
) -> None:
    engine = make_engine(mysql_url)
    load_shop(engine, small_shop)
    data = tmp_path / "data"
    env = cli_env(data, mysql_url)
    started = time.perf_counter()
    subprocess.run([CLI, *RUN_ARGS], env=env, check=True, capture_output=True)
    old = published(engine)
    # New data for the same date (a late correction): a complete re-run gives other rows.
    add_line(engine, "LATE1", "SKU-00001", "2024-06-29 10:00:00", 40)
    settings = Settings.from_env(env={}, data_dir=data, source_url=mysql_url)
    rng = random.Random(20241123)
    kills = 0
    snapshots = []
    started = time.perf_counter()
    subprocess.run([CLI, *RUN_ARGS], env=env, check=True, capture_output=True)
    full_run = time.perf_counter() - started  # a complete run with the new data
    new = published(engine)
    assert not new.equals(old)

    # 1) The whole run, killed at random points; before each, the old rows are back.
    for _ in range(10):
        restore(engine, old)
        proc = subprocess.Popen(
            [CLI, *RUN_ARGS], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.5, full_run))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        snapshots.append(published(engine))
        champion_is_whole(settings)
    outcomes = [assert_whole_frame(rows, [old, new]) for rows in snapshots]

    # 2) Killed inside the publishing transaction (MariaDB): 40,000 rows take a while.
    big_old = _big_forecasts(seed=1)
    big_new = _big_forecasts(seed=2)
    run = PublishedRun(DAY, "demand_forecast", "1", "r", 14, 2000, len(big_old))
    publish_forecasts(engine, big_old, run)
    frames = tmp_path / "frames"
    frames.mkdir()
    big_new.to_parquet(frames / "new.parquet")
    script = (
        "import sys, datetime, pandas as pd;"
        "from forecasting.db import make_engine;"
        "from forecasting.publishing import PublishedRun, publish_forecasts;"
        "f = pd.read_parquet(sys.argv[2]);"
        "run = PublishedRun(datetime.date(2024, 6, 30), 'demand_forecast', '2', 'r', 14, 2000, len(f));"
        "print('go', flush=True);"
        "publish_forecasts(make_engine(sys.argv[1]), f, run)"
    )
    states = [read_published(engine, DAY)[0]]
    for _ in range(8):
        proc = subprocess.Popen(
            [sys.executable, "-c", script, mysql_url, str(frames / "new.parquet")],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"go"
        time.sleep(rng.uniform(0.0, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        time.sleep(0.2)  # the server notices the dropped connection and rolls back
        rows = published(engine)
        assert len(rows) == len(big_old) and rows["model_version"].nunique() == 1
        states.append(rows)
        if rows["model_version"].iloc[0] == "2":  # the transaction had committed: go back
            publish_forecasts(engine, big_old, run)

    # 3) Killed while a partition is being written and swapped in (the commit protocol).
    storage = Storage(UPath(tmp_path / "storage"))
    writer = (
        "import sys, datetime, numpy as np, pandas as pd;"
        "from upath import UPath;"
        "from forecasting.storage import Storage, write_parquet;"
        "s = Storage(UPath(sys.argv[1]));"
        "print('go', flush=True)\n"
        "for i in range(1000):\n"
        "    with s.write_stage(datetime.date(2024, 6, 30), 'extract', 'shard=0-of-1') as f:\n"
        "        for k in range(4):\n"
        "            write_parquet(pd.DataFrame({'x': np.arange(300_000) + i}), f / f'p{k}.parquet')\n"
    )
    for _ in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-c", writer, str(tmp_path / "storage")],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"go"
        time.sleep(rng.uniform(0.3, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        committed = storage.committed(DAY, "extract", "shard=0-of-1")
        if committed is not None:  # a committed partition is always complete
            listed = read_json(committed / "_SUCCESS")["files"]
            assert sorted(listed) == [f"p{k}.parquet" for k in range(4)]
            for name, size in listed.items():
                assert (committed / name).stat().st_size == size
        # Any other attempt is either unsealed (readers refuse it) or a complete one the
        # kill caught between its seal and its commit, or a superseded one not yet removed.
        folder = storage.stage_dir(DAY, "extract", "shard=0-of-1")
        for attempt in folder.glob("attempt=*"):
            if attempt == committed:
                continue
            if not (attempt / "_SUCCESS").exists():
                with pytest.raises(PartialOutputError):
                    storage.checked(attempt)
            else:
                listed = read_json(attempt / "_SUCCESS")["files"]
                assert sorted(listed) == [f"p{k}.parquet" for k in range(4)]
    assert kills >= 20

    # The next complete run succeeds, cleans up and leaves nothing RUNNING (the forecasts
    # of phase 2 are removed first: 2,000 series would make the guard refuse 12).
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM demand_forecast WHERE run_date = '2024-06-30'"))
        conn.execute(sa.text("DELETE FROM forecast_runs WHERE run_date = '2024-06-30'"))
    subprocess.run([CLI, *RUN_ARGS], env=env, check=True, capture_output=True)
    assert published(engine).equals(new)
    runs_dir = data / "storage" / "runs" / "ds=2024-06-30"
    # Every pointer names a sealed attempt. What the killed runs left stays until it is
    # older than ATTEMPT_GRACE (no live writer can still be committing it); a commit after
    # that removes all of it and keeps exactly the committed attempt.
    assert Storage(UPath(data / "storage")).verify(DAY) == []
    later = datetime.now(UTC) + ATTEMPT_GRACE + timedelta(seconds=1)
    for stage in runs_dir.rglob("_COMMITTED"):
        remove_leftovers(UPath(stage.parent), now=later)
        attempts = [p for p in stage.parent.iterdir() if p.name.startswith("attempt=")]
        assert len(attempts) == 1, attempts
        assert attempts[0].name == read_json(stage)["attempt"]
    for folder in {p.parent for p in data.rglob("*") if ".tmp-" in p.name}:
        remove_leftovers(UPath(folder), now=later)  # killed syncs' and commits' temp files
    assert not [p for p in data.rglob("*") if ".tmp-" in p.name]
    configure_mlflow(settings.tracking_uri, settings.artifact_root, EXPERIMENT_NAME)
    statuses = {
        r.info.status
        for r in mlflow.search_runs(
            [mlflow.get_experiment_by_name(EXPERIMENT_NAME).experiment_id], output_format="list"
        )
    }
    assert "RUNNING" not in statuses and "FINISHED" in statuses
    champion_is_whole(settings)
    print(f"{kills} kills: whole-run outcomes {outcomes}")


def _big_forecasts(seed: int) -> pd.DataFrame:
    import numpy as np

    rng = np.random.default_rng(seed)
    n = 2000 * 20
    f = rng.uniform(0, 10, n)
    return pd.DataFrame(
        {
            "unique_id": [f"S{i // 20}@x" for i in range(n)],
            "sku": [f"S{i // 20}" for i in range(n)],
            "location_id": "x",
            "ds": pd.Timestamp("2024-07-01") + pd.to_timedelta(np.arange(n) % 20, unit="D"),
            "forecast": f,
            "p10": f * 0.5,
            "p50": f,
            "p90": f * 2,
        }
    )


class CuttableProxy:
    """A TCP proxy to MariaDB that can drop every connection and refuse new ones."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.down = threading.Event()
        self.cut_after_bytes: int | None = None
        self.forwarded = 0
        self.cuts = 0
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if self.down.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
                self.forwarded += len(chunk)
                if self.cut_after_bytes is not None and self.forwarded > self.cut_after_bytes:
                    self.cut_after_bytes = None
                    self.cut()
                    return
        except OSError:
            pass

    def cut(self, seconds: float = 3.0) -> None:
        """Drop every open connection; refuse new ones for ``seconds``."""
        self.cuts += 1
        self.down.set()
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.sockets.clear()
        threading.Timer(seconds, self.down.clear).start()

    def close(self) -> None:
        self.server.close()


@pytest.fixture()
def proxy(mysql_url: str):
    url = sa.make_url(mysql_url)
    p = CuttableProxy((url.host or "127.0.0.1", url.port or 3306))
    yield url.set(host="127.0.0.1", port=p.port).render_as_string(hide_password=False), p
    p.close()


def test_mariadb_dropping_mid_extract_is_retried_and_the_result_is_the_same(
    small_shop, mysql_url: str, proxy, pipeline, tmp_path: Path
) -> None:
    through, p = proxy
    load_shop(make_engine(mysql_url), small_shop)
    p.cut_after_bytes = 100_000  # a few months into the demand stream
    out = pipeline(DAY, through, warehouse_url=mysql_url, models=("seasonal_naive", "linear"))
    assert out["publish"]["rows"] > 0 and p.cuts == 1
    # The same date extracted without interruption gives the same data.
    clean = tmp_path / "clean"
    settings = Settings.from_env(env={}, data_dir=clean, source_url=mysql_url)
    from forecasting.pipelines.demand.steps.extract import extract_step
    from forecasting.pipelines.demand.steps.sync_source import sync_source_step

    cfg = PipelineConfig(history_days=420, horizon=14, n_windows=2)
    resources = Resources.from_settings(settings, Storage.from_uri(settings.storage_uri))
    fresh = [extract_step(DAY, s, cfg, resources) for s in sync_source_step(DAY, cfg, resources)]
    assert fresh[0].fingerprint == out["extract"][0]["fingerprint"]


def test_mariadb_dropping_mid_publish_rolls_back_and_retries(mysql_url: str, proxy) -> None:
    through, p = proxy
    engine = make_engine(through)
    old, new = _big_forecasts(1), _big_forecasts(2)
    run = PublishedRun(DAY, "demand_forecast", "1", "r", 14, 2000, len(old))
    publish_forecasts(make_engine(mysql_url), old, run)
    p.forwarded = 0
    p.cut_after_bytes = 1_000_000  # inside the INSERTs of the new rows
    publish_forecasts(engine, new, run)  # the transaction is retried after the outage
    rows = published(make_engine(mysql_url))
    want = new.sort_values(["sku", "location_id", "ds"])  # the table's key order
    assert len(rows) == len(new)
    assert rows["forecast"].round(6).tolist() == want["forecast"].round(6).tolist()
    assert p.cuts == 1  # the outage happened, mid-transaction


def test_mariadb_down_fails_with_a_clear_message_and_leaves_nothing(
    small_shop, mysql_url: str, tmp_path: Path, monkeypatch
) -> None:
    # the retries' backoff, not their count
    monkeypatch.setattr("forecasting.db.retry.time.sleep", lambda s: None)
    load_shop(make_engine(mysql_url), small_shop)
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    secret = "Pw-" + os.urandom(6).hex()
    down = sa.make_url(mysql_url).set(port=port, password=secret)
    settings = Settings.from_env(
        env={},
        data_dir=tmp_path / "data",
        source_url=down.render_as_string(hide_password=False),
    )
    cfg = PipelineConfig(history_days=420, horizon=14, n_windows=2)
    from forecasting.pipelines.demand.steps.sync_source import sync_source_step

    with pytest.raises(DatabaseUnavailableError) as err:
        sync_source_step(
            DAY, cfg, Resources.from_settings(settings, Storage.from_uri(settings.storage_uri))
        )
    message = str(err.value)
    assert "unavailable after 3 tries" in message and f":{port}" in message
    assert secret not in message and "***" in message
    assert not (tmp_path / "data" / "storage" / "runs").exists()  # no partial state


def test_the_mlflow_store_down_fails_register_and_the_next_run_succeeds(
    small_shop, mysql_url: str, pipeline, tmp_path: Path, monkeypatch
) -> None:
    load_shop(make_engine(mysql_url), small_shop)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    from forecasting.pipelines.demand.run import run_pipeline

    settings = Settings.from_env(
        env={},
        data_dir=tmp_path / "data",
        source_url=mysql_url,
        tracking_uri="http://127.0.0.1:9",  # nothing listens
    )
    cfg = PipelineConfig(
        history_days=420, horizon=14, n_windows=2, models=("seasonal_naive", "linear")
    )
    with pytest.raises(RegistryUnavailableError):
        run_pipeline(DAY, settings, cfg)
    assert read_published(make_engine(mysql_url), DAY)[0].empty
    out = pipeline(DAY, mysql_url, models=("seasonal_naive", "linear"))  # the store is back
    assert out["publish"]["rows"] > 0
    assert json.loads(json.dumps(out["register"], default=str))["version"] == "1"
