"""Models through a real MLflow store: log, register, alias, load by URI, predict."""

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from forecasting.evaluation.calibration import IntervalCalibrator
from forecasting.models import CalibratedForecaster, make_model
from forecasting.models.sharded import ShardedForecaster
from forecasting.registry.models import get_champion, register_run_model, set_champion
from forecasting.registry.pyfunc import log_forecaster, panel_to_model_input
from forecasting.registry.tracking import configure_mlflow
from forecasting.sharding import shard_of_many

pytestmark = pytest.mark.integration

H = 14
PARAMS = {
    "hgb": {"max_iter": 10, "max_origins": 15},
    "mlp": {"epochs": 1, "hidden": [16], "max_origins": 15},
}


def sharded(name: str, panel) -> ShardedForecaster:
    """The candidate fitted per shard (2 shards), as the DAG registers it."""
    members = []
    for k in range(2):
        rows = np.flatnonzero(shard_of_many(panel.ids["sku"].to_numpy(), 2) == k)
        members.append(
            CalibratedForecaster(
                make_model(name, horizon=H, seed=1, params=PARAMS[name]).fit(panel.subset(rows)),
                IntervalCalibrator(1.2, 0.9),
                name,
            )
        )
    return ShardedForecaster(members, name)


@pytest.mark.parametrize("name", ["hgb", "mlp"])
def test_log_register_alias_and_serve(name: str, shop_panel, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    experiment = configure_mlflow(uri, (tmp_path / "artifacts").as_uri(), "test")
    model = sharded(name, shop_panel)
    with mlflow.start_run(experiment_id=experiment) as run:
        model_uri = log_forecaster(model, shop_panel, H)
    version = register_run_model("fc_test", run.info.run_id, model_uri, {"candidate": name})
    assert register_run_model("fc_test", run.info.run_id, model_uri, {}) == version  # idempotent
    set_champion("fc_test", version)
    champion = get_champion("fc_test")
    assert (
        champion is not None and champion.version == version and champion.run_id == run.info.run_id
    )

    served = mlflow.pyfunc.load_model("models:/fc_test@champion")
    got = served.predict(panel_to_model_input(shop_panel), params={"horizon": H})
    want = model.predict(shop_panel, H)
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False
    )

    # A shard's scoring task loads its own shard's member only, and forecasts the same.
    fresh = mlflow.pyfunc.load_model("models:/fc_test@champion")
    members = fresh.unwrap_python_model().forecaster.members
    assert members.loaded == []
    rows = np.flatnonzero(shard_of_many(shop_panel.ids["sku"].to_numpy(), 2) == 1)
    got = fresh.predict(panel_to_model_input(shop_panel, rows), params={"horizon": H})
    assert members.loaded == [1]
    want = model.predict(shop_panel.subset(rows), H)
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False
    )

    info = mlflow.models.get_model_info("models:/fc_test@champion")
    assert {c["name"] for c in info.signature.inputs.to_dict()} >= {
        "unique_id",
        "sku",
        "location_id",
        "ds",
        "y",
        "price",
    }
    # The model carries this package's code and pins only what it needs at inference.
    local = Path(mlflow.artifacts.download_artifacts("models:/fc_test@champion"))
    assert (local / "code" / "forecasting" / "models" / "sharded.py").exists()
    requirements = (local / "requirements.txt").read_text()
    assert "scikit-learn==" in requirements and "apache-airflow" not in requirements
    assert ("keras==" in requirements) == (name == "mlp")
    assert info.signature.params is not None and info.signature.params.params[0].name == "horizon"
    assert info.saved_input_example_info is not None
    keras_models = [
        m
        for m in mlflow.search_logged_models(experiment_ids=[experiment], output_format="list")
        if m.name.startswith("keras_")
    ]
    assert bool(keras_models) == (
        name == "mlp"
    )  # the Keras network is also logged with the Keras flavour
    if keras_models:
        assert "keras" in mlflow.models.get_model_info(keras_models[0].model_uri).flavors
