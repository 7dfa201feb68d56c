"""One answer to "which MLflow run is the date's run?": the newest finished, complete one."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import mlflow

from forecasting.registry.runs import (
    COMPLETE_TAG,
    candidate_runs,
    date_run,
    find_date_run,
    log_text_artifact,
)
from forecasting.registry.tracking import configure_mlflow

DAY = date(2024, 6, 30)


def test_only_a_finished_complete_run_is_the_dates_run(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    experiment = configure_mlflow(uri, str(tmp_path / "artifacts"), "runs_test")
    client = mlflow.MlflowClient(uri)
    assert date_run(experiment, DAY, client) is None

    def start(status: str, **tags: str) -> str:
        run = client.create_run(experiment, tags={"logical_date": DAY.isoformat(), **tags})
        if status != "RUNNING":
            client.set_terminated(run.info.run_id, status=status)
        return str(run.info.run_id)

    done = start("FINISHED", **{COMPLETE_TAG: "true", "training.decision": "train"})
    client.log_param(done, "config.horizon", "28")
    child = client.create_run(
        experiment, tags={"mlflow.parentRunId": done, "candidate.name": "linear"}
    )
    client.log_metric(child.info.run_id, "backtest_rmsse", 0.8)
    # Newer attempts that must never answer: still running, killed, or ended incomplete.
    start("RUNNING", **{COMPLETE_TAG: "true", "training.decision": "reuse"})
    start("KILLED", **{COMPLETE_TAG: "true"})
    start("FINISHED", **{"training.decision": "reuse"})
    other_day = client.create_run(
        experiment, tags={"logical_date": "2024-06-29", COMPLETE_TAG: "true"}
    )
    client.set_terminated(other_day.info.run_id)

    found = date_run(experiment, DAY, client)
    assert found is not None and found.run_id == done
    assert found.tags["training.decision"] == "train" and found.params == {"config.horizon": "28"}
    assert find_date_run(experiment, DAY) == {
        "run_id": done,
        "fingerprint": "",
        "config_hash": "",
        "serving_version": "",
        "rows": "",
    }
    (candidate,) = candidate_runs(experiment, done, client)
    assert candidate.name == "linear" and candidate.metrics == {"backtest_rmsse": 0.8}

    log_text_artifact(done, "<html></html>", "report/report.html", client)
    assert [a.path for a in client.list_artifacts(done, "report")] == ["report/report.html"]
