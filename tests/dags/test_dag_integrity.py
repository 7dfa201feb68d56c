"""DagBag import test and structure test of every DAG in dags/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import REPO, airflow_env

PARSE = """
import json, sys, time
start = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
imported = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
parsed = time.perf_counter()
heavy = sorted(m for m in ("pandas", "tensorflow", "keras", "mlflow", "great_expectations", "sklearn") if m in sys.modules)
dags = {}
for dag_id, dag in bag.dags.items():
    dags[dag_id] = {
        "tags": sorted(dag.tags),
        "catchup": dag.catchup,
        "schedule": str(getattr(dag.timetable, "expression", dag.timetable)),
        "max_active_runs": dag.max_active_runs,
        "doc_md": bool(dag.doc_md),
        "file": dag.fileloc,
        "params": {k: dag.params[k] for k in dag.params},
        "tasks": {t.task_id: {"retries": t.retries, "upstream": sorted(t.upstream_task_ids),
                              "setup": t.is_setup, "teardown": t.is_teardown} for t in dag.tasks},
    }
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": dags,
                  "parse_seconds": parsed - imported, "heavy_modules": heavy}))
"""


def parse_dags(tmp_path: Path) -> dict:
    env = airflow_env(tmp_path / "home", tmp_path / "data")
    out = subprocess.run(
        [sys.executable, "-c", PARSE, str(REPO / "dags")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_dags_import_cleanly_and_follow_the_rules(tmp_path: Path, record_property) -> None:
    result = parse_dags(tmp_path)
    assert result["errors"] == {}
    assert set(result["dags"]) == {
        p.stem for p in (REPO / "dags").glob("*.py")
    }  # one DAG per file, file == dag_id
    for dag_id, dag in result["dags"].items():
        assert Path(dag["file"]).stem == dag_id
        assert dag["tags"], f"{dag_id} has no tags"
        assert dag["catchup"] is False
        assert dag["doc_md"]
        assert dag["max_active_runs"] == 1
        for task_id, task in dag["tasks"].items():
            assert 2 <= task["retries"] <= 4, f"{dag_id}.{task_id} retries={task['retries']}"
    # Parsing must not import the heavy libraries (they are imported inside tasks).
    assert result["heavy_modules"] == []
    # The intraday alert: one task on the hour (events land continuously; see its doc)
    nowcast = result["dags"]["demand_nowcast"]
    assert list(nowcast["tasks"]) == ["judge"]
    assert "@hourly" in nowcast["schedule"] or "0 * * * *" in nowcast["schedule"]
    record_property("dag_parse_seconds", round(result["parse_seconds"], 3))
    print(f"DAG folder parse time: {result['parse_seconds']:.3f}s")


def test_demand_forecast_structure(tmp_path: Path) -> None:
    dag = parse_dags(tmp_path)["dags"]["demand_forecast"]
    upstream = {k: v["upstream"] for k, v in dag["tasks"].items()}
    assert upstream == {
        "lease": [],
        "sync_source": ["lease"],
        "extract": ["sync_source"],
        "validate": ["extract"],
        "check": ["sync_source", "validate"],
        "build_features": ["validate"],
        "backtest": ["build_features", "check"],
        "fit": ["backtest", "build_features", "check"],
        "register": ["backtest", "check", "fit"],
        "score": ["build_features", "register"],
        "publish": ["score"],
        "monitor": ["build_features", "publish", "sync_source"],
        "report": ["monitor"],
        "release": ["lease", "report"],
    }
    tasks = dag["tasks"]
    assert tasks["lease"]["setup"] and tasks["release"]["teardown"]
    assert "@daily" in dag["schedule"] or "0 0 * * *" in dag["schedule"]


def test_demand_forecast_params_are_the_pipeline_config(tmp_path: Path) -> None:
    """The trigger form shows the library's defaults: the DAG derives its params from
    PipelineConfig (one source of truth), plus the connection ids."""
    from forecasting.config import PipelineConfig

    params = parse_dags(tmp_path)["dags"]["demand_forecast"]["params"]
    config = PipelineConfig()
    assert set(params) == set(PipelineConfig.model_fields) | {
        "source_conn_id",
        "warehouse_conn_id",
        "storage_conn_id",
    }
    for name in PipelineConfig.model_fields:
        value = getattr(config, name)
        value = value.model_dump() if hasattr(value, "model_dump") else value
        assert params[name] == (list(value) if isinstance(value, tuple) else value), name
    PipelineConfig(**{k: v for k, v in params.items() if k in PipelineConfig.model_fields})
