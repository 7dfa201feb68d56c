from pathlib import Path

import pytest
from pydantic import ValidationError

from forecasting.config import PipelineConfig, Settings


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
    with pytest.raises(ValidationError, match=r"bad parameters for model 'hgb'.*max_iters"):
        PipelineConfig(model_params={"hgb": {"max_iters": 10}})
    assert (
        PipelineConfig(model_params={"hgb": {"max_iter": 10}}).model_params["hgb"]["max_iter"] == 10
    )


def test_the_training_payload_leaves_out_thresholds_and_cadence() -> None:
    a = PipelineConfig().training_payload()
    b = PipelineConfig(retrain_every_days=3, force_retrain=True, lookback_days=1).training_payload()
    assert a == b and "promotion" not in a and "models" in a
