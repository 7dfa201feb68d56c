from pathlib import Path

import pytest
from pydantic import ValidationError

from forecasting.config import PipelineConfig, Settings, describe_invalid


def test_settings_default_to_local_files(tmp_path: Path) -> None:
    s = Settings.from_env(env={"FORECASTING_DATA_DIR": str(tmp_path / "d")})
    assert s.data_dir == (tmp_path / "d").resolve()
    assert s.source_url == f"sqlite:///{s.data_dir / 'shop.db'}"
    assert s.warehouse_url == s.source_url
    assert s.tracking_uri == f"sqlite:///{s.data_dir / 'mlflow.db'}"
    assert s.artifact_root.startswith("file://") and s.artifact_root.endswith("mlartifacts")
    assert s.storage_uri == (s.data_dir / "storage").as_uri()
    assert s.shop_timezone == s.source_timezone == "UTC"


def test_settings_env_and_overrides(tmp_path: Path) -> None:
    env = {
        "FORECASTING_DATA_DIR": str(tmp_path),
        "FORECASTING_SOURCE_URL": "mysql://u@h/db",
        "FORECASTING_STORAGE_URI": "s3://bucket/forecasting",
        "FORECASTING_SHOP_TIMEZONE": "Europe/London",
    }
    s = Settings.from_env(env=env, warehouse_url="sqlite:///w.db")
    assert s.source_url == "mysql://u@h/db"
    assert s.warehouse_url == "sqlite:///w.db"
    assert s.storage_uri == "s3://bucket/forecasting" and s.shop_timezone == "Europe/London"
    with pytest.raises(TypeError, match="Unknown settings"):
        Settings.from_env(env=env, bogus=1)
    with pytest.raises(ValueError, match="unknown timezone 'Mars/Olympus'"):
        Settings.from_env(env={**env, "FORECASTING_SHOP_TIMEZONE": "Mars/Olympus"})


def test_pipeline_config_validates_and_adds_baseline() -> None:
    c = PipelineConfig(models=("hgb",))
    assert c.models == ("seasonal_naive", "hgb")
    with pytest.raises(ValidationError, match="unknown models"):
        PipelineConfig(models=("prophet",))
    with pytest.raises(ValidationError, match="primary_metric"):
        PipelineConfig(primary_metric="r2")
    with pytest.raises(ValidationError):
        PipelineConfig(horizon=0)
    with pytest.raises(ValidationError):
        PipelineConfig(unknown_field=1)


def test_model_params_typos_are_refused_not_ignored() -> None:
    with pytest.raises(ValidationError, match="unknown model 'hbg'; did you mean 'hgb'"):
        PipelineConfig(model_params={"hbg": {"max_iter": 10}})
    with pytest.raises(
        ValidationError, match="hgb has no parameter 'max_iters'; did you mean 'max_iter'"
    ):
        PipelineConfig(model_params={"hgb": {"max_iters": 10}})
    assert (
        PipelineConfig(model_params={"hgb": {"max_iter": 10}}).model_params["hgb"]["max_iter"] == 10
    )


def test_the_training_payload_leaves_out_thresholds_and_cadence() -> None:
    a = PipelineConfig().training_payload()
    b = PipelineConfig(retrain_every_days=3, force_retrain=True, lookback_days=1).training_payload()
    assert a == b and "promotion" not in a and "models" in a


@pytest.mark.parametrize(
    ("model_params", "message"),
    [
        ({"hgb": {"max_iter": -5}}, "model_params: hgb.max_iter must be an integer >= 1 (got -5)"),
        ({"hgb": {"learning_rate": 0}}, "hgb.learning_rate must be a number > 0 (got 0)"),
        ({"hgb": {"point_loss": "l1"}}, "hgb.point_loss must be one of 'poisson', 'squared_error'"),
        ({"mlp": {"dropout": 1.0}}, "mlp.dropout must be a number >= 0 and < 1 (got 1.0)"),
        ({"mlp": {"hidden": [64, 0]}}, "mlp.hidden must be a non-empty list of integers >= 1"),
        ({"linear": {"max_rows": 0}}, "linear.max_rows must be an integer >= 1 or null (got 0)"),
        ({"seasonal_naive": {"season": 0}}, "seasonal_naive.season must be an integer >= 1"),
        ({"ensemble": {"weights": [1, -1, 1]}}, "ensemble: weights must be non-negative"),
        ({"ensemble": {"weight": [1]}}, "ensemble has no parameter 'weight'; did you mean"),
        ({"hgb": {"features": {"lags": [-1]}}}, "model_params: hgb.features: lags must be >= 0"),
    ],
)
def test_every_candidate_is_built_and_checked_when_the_config_is(
    model_params: dict, message: str
) -> None:
    """A value outside a parameter's range fails the configuration, naming the model, the
    parameter and what is allowed (not the backtest after the data was read)."""
    with pytest.raises(ValidationError) as failure:
        PipelineConfig(model_params=model_params)
    text = describe_invalid(failure.value)
    assert message in text and "\n" not in text and "http" not in text


def test_config_errors_read_in_one_line_without_framework_urls() -> None:
    with pytest.raises(ValidationError) as failure:
        PipelineConfig(shards=0)
    flags = {"shards": "--shards"}
    text = describe_invalid(failure.value, lambda f: flags.get(f, f))
    assert text == "--shards: input should be greater than or equal to 1 (got 0)"
    with pytest.raises(ValidationError) as failure:
        PipelineConfig(checks={"min_series_ratio": 3})
    assert describe_invalid(failure.value) == (
        "checks.min_series_ratio: input should be less than or equal to 1 (got 3)"
    )
