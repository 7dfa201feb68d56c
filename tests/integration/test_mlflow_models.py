"""Models through a real MLflow store: log, register, alias, load by URI, predict."""

from pathlib import Path

import mlflow
import pandas as pd
import pytest

from forecasting.evaluation.calibration import IntervalCalibrator
from forecasting.models import CalibratedForecaster, make_model
from forecasting.registry.models import get_champion, register_run_model, set_champion
from forecasting.registry.pyfunc import log_forecaster, panel_to_model_input
from forecasting.registry.tracking import configure_mlflow

pytestmark = pytest.mark.integration

H = 14
PARAMS = {
    "hgb": {"max_iter": 10, "max_origins": 15},
    "mlp": {"epochs": 1, "hidden": [16], "max_origins": 15},
}


@pytest.mark.parametrize("name", ["hgb", "mlp"])
def test_log_register_alias_and_serve(name: str, shop_panel, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    experiment = configure_mlflow(uri, (tmp_path / "artifacts").as_uri(), "test")
    model = CalibratedForecaster(
        make_model(name, horizon=H, seed=1, params=PARAMS[name]).fit(shop_panel),
        IntervalCalibrator(1.2, 0.9),
        name,
    )
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

    info = mlflow.models.get_model_info("models:/fc_test@champion")
    assert {c["name"] for c in info.signature.inputs.to_dict()} >= {"unique_id", "ds", "y", "price"}
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
