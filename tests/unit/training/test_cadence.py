from datetime import date

from forecasting.registry.models import VersionInfo
from forecasting.training.cadence import decide_training

DAY = date(2024, 6, 30)
CHAMPION = VersionInfo("4", "run4", config_hash="cfg", data_end=date(2024, 6, 27), series=100)


def decide(**overrides):
    args = {
        "config_hash": "cfg",
        "fingerprint": "fp",
        "series": 100,
        "retrain_every_days": 7,
        "force_retrain": False,
        "champion": CHAMPION,
        "versions": [CHAMPION],
        "previous_run": None,
    }
    args.update(overrides)
    return decide_training(
        overrides.pop("day", DAY), **{k: v for k, v in args.items() if k != "day"}
    )


def test_a_young_champion_is_reused() -> None:
    d = decide()
    assert not d.train and d.serve_version == "4" and d.rule == "champion"
    assert "3 days old" in d.reason


def test_retrain_when_old_forced_reconfigured_decayed_or_catalogue_changed() -> None:
    assert decide(day=date(2024, 7, 4)).rule == "age"
    assert decide(force_retrain=True).rule == "forced"
    assert decide(config_hash="other").rule == "config"
    decayed = VersionInfo(**{**CHAMPION.__dict__, "tags": {"monitoring.decay": "true"}})
    assert decide(champion=decayed).rule == "decay"
    assert decide(series=125).rule == "catalogue"
    assert decide(champion=None).rule == "no_champion"


def test_the_same_date_with_the_same_data_republishes_its_version() -> None:
    previous = {"fingerprint": "fp", "config_hash": "cfg", "serving_version": "2"}
    d = decide(previous_run=previous)
    assert not d.train and d.serve_version == "2" and d.rule == "same_run"
    changed = decide(previous_run={**previous, "fingerprint": "new"})
    assert changed.rule == "champion"  # new data: the cadence decides again


def test_past_dates_never_use_a_model_that_saw_their_future() -> None:
    older = VersionInfo("2", "run2", config_hash="cfg", data_end=date(2024, 6, 17))
    backfill = decide(day=date(2024, 6, 20), versions=[CHAMPION, older])
    assert not backfill.train and backfill.serve_version == "2" and backfill.backfill
    too_old = decide(day=date(2024, 6, 25), versions=[CHAMPION, older])
    assert too_old.train and too_old.rule == "backfill" and too_old.backfill
