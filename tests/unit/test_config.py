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


def test_settings_env_and_overrides(tmp_path: Path) -> None:
    env = {"FORECASTING_DATA_DIR": str(tmp_path), "FORECASTING_SOURCE_URL": "mysql://u@h/db"}
    s = Settings.from_env(env=env, warehouse_url="sqlite:///w.db")
    assert s.source_url == "mysql://u@h/db"
    assert s.warehouse_url == "sqlite:///w.db"
    with pytest.raises(TypeError, match="Unknown settings"):
        Settings.from_env(env=env, bogus=1)


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
