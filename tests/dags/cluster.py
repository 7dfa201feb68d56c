"""A real Airflow deployment on this machine for the tests: CeleryExecutor with its own
scheduler, dag-processor, api-server and Celery workers, each in its own process.

Metadata lives in a fresh PostgreSQL database, the broker is the local Redis server (a
database number of its own), and the Celery results go to PostgreSQL. The cluster stops
exactly the processes it started (each is the leader of its own process group, so the
gunicorn and task children it spawned go with it) and drops what it created.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .conftest import REPO, airflow_env

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
POSTGRES_ADMIN = os.environ.get(
    "FORECASTING_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
REDIS_HOST = os.environ.get("FORECASTING_TEST_REDIS", "127.0.0.1:6379")

#: A module the workers import to report their own name as the task's hostname.
_HOSTNAME_MODULE = "import os\n\ndef name():\n    return os.environ['FC_WORKER_NAME']\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """Processes and resources of one test deployment (see the module docstring)."""

    home: Path
    data_dir: Path
    extra_env: dict[str, str]
    workers: int = 2
    port: int = field(default_factory=free_port)
    database: str = field(default_factory=lambda: f"fc_airflow_{uuid.uuid4().hex[:10]}")
    redis_db: int = field(default_factory=lambda: 8 + uuid.uuid4().int % 8)
    secret: str = field(default_factory=lambda: uuid.uuid4().hex)  # shared JWT secret
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    token: str = ""

    # ------------------------------------------------------------------ setup
    def _admin(self, statement: str) -> None:
        import sqlalchemy as sa

        engine = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(statement))
        engine.dispose()

    def env(self, worker: str | None = None) -> dict[str, str]:
        pg = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{self.database}"
        env = airflow_env(self.home, self.data_dir, self.extra_env)
        env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pg,
                "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS_HOST}/{self.redis_db}",
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + pg,
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API_AUTH__JWT_SECRET": self.secret,
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "PYTHONPATH": str(self.home / "pythonpath"),
            }
        )
        if worker:
            env["FC_WORKER_NAME"] = worker
            env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] = "fc_worker_name.name"
        return env

    def start(self) -> Cluster:
        """Create the metadata database, migrate it and start every component."""
        (self.home / "pythonpath").mkdir(parents=True, exist_ok=True)
        (self.home / "pythonpath" / "fc_worker_name.py").write_text(_HOSTNAME_MODULE)
        self._admin(f"CREATE DATABASE {self.database}")
        subprocess.run(
            [AIRFLOW, "db", "migrate"],
            env=self.env(),
            check=True,
            capture_output=True,
            timeout=300,
        )
        commands = {
            "api-server": [AIRFLOW, "api-server"],
            "scheduler": [AIRFLOW, "scheduler"],
            "dag-processor": [AIRFLOW, "dag-processor"],
        }
        for i in range(1, self.workers + 1):
            commands[f"worker{i}"] = [
                AIRFLOW,
                "celery",
                "worker",
                "--celery-hostname",
                f"worker{i}@%h",
                "--concurrency",
                "1",
            ]
        for name, cmd in commands.items():
            log = open(self.home / f"{name}.log", "wb")  # noqa: SIM115 - closed by the OS at exit
            self.processes[name] = subprocess.Popen(
                cmd,
                env=self.env(worker=name if name.startswith("worker") else None),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped with its children
                cwd=REPO,
            )
        self._wait_healthy()
        return self

    def _wait_healthy(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [n for n, p in self.processes.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{dead} exited early:\n{self.logs(dead[0])}")
            try:
                health = self._get("/api/v2/monitor/health", auth=False)
                if (
                    health["scheduler"]["status"] == "healthy"
                    and health["dag_processor"]["status"] == "healthy"
                ):
                    self._login()
                    return
            except (urllib.error.URLError, ConnectionError, KeyError, json.JSONDecodeError):
                pass
            time.sleep(2)
        raise TimeoutError(
            "the Airflow components did not become healthy:\n" + self.logs("scheduler")
        )

    # ------------------------------------------------------------------ REST API
    def _login(self) -> None:
        passwords = json.loads(
            (self.home / "simple_auth_manager_passwords.json.generated").read_text()
        )
        body = {"username": "admin", "password": passwords["admin"]}
        self.token = self._request("POST", "/auth/token", body, auth=False)["access_token"]

    def _request(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method
        )
        request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def _get(self, path: str, auth: bool = True) -> Any:
        return self._request("GET", path, auth=auth)

    def wait_for_dag(self, dag_id: str, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self._get(f"/api/v2/dags/{dag_id}")
                return
            except urllib.error.HTTPError:
                time.sleep(2)
        raise TimeoutError(f"{dag_id} was not parsed:\n{self.logs('dag-processor')}")

    def trigger(self, dag_id: str, logical_date: str, conf: dict[str, Any]) -> str:
        """Unpause the DAG and trigger a run through the REST API; returns its run id."""
        self._request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        run = self._request(
            "POST",
            f"/api/v2/dags/{dag_id}/dagRuns",
            {"logical_date": logical_date, "conf": conf, "dag_run_id": f"test__{uuid.uuid4().hex}"},
        )
        return str(run["dag_run_id"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 900.0) -> str:
        deadline = time.monotonic() + timeout
        state = "queued"
        while time.monotonic() < deadline:
            state = self._get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]
            if state in ("success", "failed"):
                return str(state)
            time.sleep(5)
        raise TimeoutError(f"run {run_id} still {state} after {timeout}s")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        found = self._get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=1000")
        return list(found["task_instances"])

    def logs(self, name: str, tail: int = 6000) -> str:
        path = self.home / f"{name}.log"
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""

    # ------------------------------------------------------------------ teardown
    def stop(self) -> list[str]:
        """Stop exactly the processes this cluster started; returns those still alive."""
        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)  # what Airflow documents for a clean stop
        deadline = time.monotonic() + 30
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        survivors = []
        for name, proc in self.processes.items():
            try:
                os.killpg(proc.pid, 0)  # a leftover child in the group?
                survivors.append(name)
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        with contextlib.suppress(Exception):  # best effort: the test result does not depend on it
            self._admin(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        import redis

        host, port = REDIS_HOST.split(":")
        redis.Redis(host=host, port=int(port), db=self.redis_db).flushdb()
        return survivors
