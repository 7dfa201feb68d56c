"""Explanations of a registered model version, scored the way the score step scores it."""

from pathlib import Path

import mlflow
import numpy as np
import pytest

from forecasting.explain import (
    applicable_groups,
    bucket_totals,
    explain_change,
    explain_forecasts,
    pyfunc_predictor,
)
from forecasting.features import Panel
from forecasting.lifecycle.serving import load_pinned_model
from forecasting.models import make_model
from forecasting.registry.models import register_run_model
from forecasting.registry.pyfunc import log_forecaster
from forecasting.registry.tracking import configure_mlflow
from forecasting.scoring import score_panel

from ..unit.explain.conftest import HORIZON, PROMOTED, SMALL, make_frames

pytestmark = pytest.mark.integration


def test_drivers_of_a_pinned_version_add_up_to_its_scores(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    experiment = configure_mlflow(uri, (tmp_path / "artifacts").as_uri(), "test")
    panel = Panel.from_long(*make_frames())
    model = make_model("linear", horizon=HORIZON, params=SMALL).fit(panel)
    with mlflow.start_run(experiment_id=experiment) as run:
        model_uri = log_forecaster(model, panel, HORIZON)
    version = register_run_model("fc_explain", run.info.run_id, model_uri, {})

    scores, _ = score_panel(panel, "fc_explain", version, HORIZON, None, 1000.0)
    predict = pyfunc_predictor(load_pinned_model("fc_explain", version), HORIZON)
    groups = applicable_groups(panel, daily=False)
    drivers = explain_forecasts(
        predict, panel, HORIZON, series=[PROMOTED, "S03@online"], groups=groups
    )

    summed = drivers.groupby(["unique_id", "horizon_bucket"], as_index=False)["contribution"].sum()
    both = summed.merge(bucket_totals(scores, HORIZON), on=["unique_id", "horizon_bucket"])
    assert len(both) == 4  # 2 series x 2 buckets, every one matched to the published scores
    np.testing.assert_allclose(both["contribution"], both["forecast"], rtol=0, atol=1e-9)
    promo = drivers.loc[
        (drivers["unique_id"] == PROMOTED) & (drivers["input_group"] == "price_promotions")
    ]
    assert promo.set_index("horizon_bucket").loc["8-14", "contribution"] > 1.0

    # The same version the next day: the change is all new data and adds up.
    yesterday = panel.truncate(panel.last_history_index - 1)
    previous = explain_forecasts(
        predict, yesterday, HORIZON, series=[PROMOTED, "S03@online"], groups=groups
    )
    changes = explain_change(previous, drivers)
    want = (
        drivers.groupby("unique_id")["contribution"].sum()
        - previous.groupby("unique_id")["contribution"].sum()
    )
    np.testing.assert_allclose(changes.groupby("unique_id")["contribution"].sum(), want, atol=1e-9)
