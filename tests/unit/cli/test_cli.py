"""The ``forecasting`` command: every command's help, flags derived from the run
configurations, quiet output, one-line errors and the benchmark's lazy import."""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from forecasting.cli import build_parser, main
from forecasting.cli.bench import MISSING
from forecasting.cli.config_flags import config_from_args, flag_fields, flag_of
from forecasting.cli.errors import UsageError
from forecasting.config import PipelineConfig
from forecasting.customers.config import CustomerConfig

COMMANDS = {
    "seed-demo",
    "import",
    "init-db",
    "run",
    "summary",
    "report",
    "benchmark",
    "customers",
    "leases",
    "check-storage",
    "nowcast",
    "app",
}


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _every_command(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = []
    for name, sub in _subcommands(parser).items():
        found.append(((*path, name), sub))
        found += _every_command(sub, (*path, name))
    return found


def test_every_command_and_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    assert set(_subcommands(parser)) == COMMANDS
    commands = _every_command(parser)
    assert {" ".join(p) for p, _ in commands} >= {
        "customers run",
        "customers map",
        "leases list",
        "leases release",
    }
    for path, _ in commands:
        with pytest.raises(SystemExit) as exit_:
            main([*path, "--help"])
        assert exit_.value.code == 0
        text = capsys.readouterr().out
        assert text.startswith(f"usage: forecasting {' '.join(path)}"), path
        assert "--help" in text


@pytest.mark.parametrize(
    ("argv", "config_class"),
    [
        (["run", "--date", "2024-06-30"], PipelineConfig),
        (["customers", "run", "--date", "2024-06-30"], CustomerConfig),
    ],
)
def test_config_flags_default_to_the_config_and_show_its_defaults(
    argv: list[str], config_class: Any
) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    assert config_from_args(args, config_class) == config_class()
    sub = parser
    for name in argv[:-2]:
        sub = _subcommands(sub)[name]
    text = " ".join(sub.format_help().split())  # argparse wraps lines
    defaults = config_class()
    for name in flag_fields(config_class):
        field = config_class.model_fields[name]
        assert flag_of(name) in text
        assert field.description and " ".join(field.description.split()) in text, name
        value = getattr(defaults, name)
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            assert f"{field.description} (default {value})" in text, name
        if isinstance(value, tuple):  # argparse may break a long list anywhere
            assert f"(default{','.join(value)})" in text.replace(" ", ""), name
    assert "--promotion" not in text  # nested thresholds: the DAG's form sets them


def test_config_flags_set_the_fields() -> None:
    args = build_parser().parse_args(
        [
            "run",
            "--date",
            "2024-06-30",
            "--horizon",
            "14",
            "--models",
            "seasonal_naive,linear",
            "--force-retrain",
            "--lookback-days",
            "0",
            "--primary-metric",
            "wape",
        ]
    )
    config = config_from_args(args, PipelineConfig)
    assert config.horizon == 14
    assert config.models == ("seasonal_naive", "linear")
    assert config.force_retrain is True and config.full_refresh is False
    assert config.lookback_days == 0 and config.primary_metric == "wape"
    args = build_parser().parse_args(
        ["customers", "run", "--date", "2024-06-30", "--recommenders", "popularity,als"]
    )
    assert config_from_args(args, CustomerConfig).recommenders[-1] == "als"


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (["--shards", "0"], "--shards: input should be greater than or equal to 1 (got 0)"),
        (
            ["--model-params", "not json"],
            "--model-params is not valid JSON: Expecting value: line 1 column 1 (char 0)",
        ),
        (["--models", "seasonal_naive,prophet"], "--models: unknown models ['prophet']"),
    ],
)
def test_a_bad_config_flag_is_named(flags: list[str], error: str) -> None:
    args = build_parser().parse_args(["run", "--date", "2024-06-30", *flags])
    with pytest.raises(UsageError) as raised:
        config_from_args(args, PipelineConfig)
    assert str(raised.value).startswith(error)


def test_seed_demo_defaults_are_the_generators() -> None:
    from forecasting.sources.synthetic import generate_shop

    args = build_parser().parse_args(["seed-demo"])
    given = inspect.signature(generate_shop).parameters
    for flag, parameter in (
        ("skus", "n_skus"),
        ("locations", "n_locations"),
        ("days", "days"),
        ("end_date", "end_date"),
        ("seed", "seed"),
        ("planned_launches", "planned_launches"),
        ("reviews", "reviews"),
        ("events", "events"),
    ):
        assert getattr(args, flag) == given[parameter].default, flag


def test_verbose_is_global_and_per_command() -> None:
    parser = build_parser()
    assert parser.parse_args(["seed-demo"]).verbose == 0
    assert parser.parse_args(["-v", "seed-demo"]).verbose == 1
    assert parser.parse_args(["seed-demo", "-v"]).verbose == 1
    assert parser.parse_args(["-vv", "leases", "list"]).verbose == 2


@pytest.fixture
def no_configured_shop(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FORECASTING_SOURCE_URL", "FORECASTING_WAREHOUSE_URL", "FORECASTING_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_configured_shop")
def test_seed_demo_prints_one_line_or_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = ["seed-demo", "--skus", "2", "--locations", "1", "--days", "30"]
    seed += ["--data-root", str(tmp_path)]
    assert main(seed) == 0
    out = capsys.readouterr()
    line = out.out.strip()
    assert "\n" not in line and not out.err  # quiet: nothing logged without -v
    assert line.startswith("seed-demo: wrote ") and "orders" in line and "web events" in line
    assert line.endswith(f"up to 2024-06-30, into sqlite:///{tmp_path}/shop.db")

    assert main([*seed, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["last_day"] == "2024-06-30"
    assert printed["rows"]["products"] == 2 and printed["rows"]["orders"] > 0
    assert f"{printed['rows']['orders']:,} orders" in line


def test_the_benchmark_without_the_bench_package_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # not installed: the package and the modules an earlier test may have imported
    for module in ("forecasting_bench", "forecasting_bench.harness", "forecasting_bench.customers"):
        monkeypatch.setitem(sys.modules, module, None)
    for dataset in ("online-retail", "propensity"):
        assert main(["benchmark", dataset]) == 1
        err = capsys.readouterr().err
        assert err == f"forecasting benchmark: error: {MISSING}\n"
    assert "pip install -e bench" in MISSING and "make install" in MISSING


def test_the_benchmark_command_calls_the_bench_harness(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []
    harness = types.ModuleType("forecasting_bench.harness")
    harness.run_benchmark = lambda *a, **kw: calls.append((a, kw))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "forecasting_bench", types.ModuleType("forecasting_bench"))
    monkeypatch.setitem(sys.modules, "forecasting_bench.harness", harness)
    argv = "benchmark online-retail --data-dir ../shared/data --future-csv OUT.csv"
    assert main(argv.split()) == 0
    assert calls == [
        (
            ("online-retail",),
            {
                "data_dir": "../shared/data",
                "future_csv": "OUT.csv",
                "leadtime_csv": None,
                "windows": 3,
                "max_series": None,
                "models": None,
                "peers": None,
                "model_params": None,
                "output_dir": None,
                "shards": 1,
            },
        )
    ]


@pytest.mark.parametrize(
    ("verbose", "ours", "theirs"),
    [(0, "WARNING", "WARNING"), (1, "INFO", "WARNING"), (2, "DEBUG", "INFO")],
)
def test_quiet_by_default_and_more_with_each_v(
    verbose: int, ours: str, theirs: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    from forecasting.cli.app import NOISY, setup_logging

    monkeypatch.delenv("MLFLOW_LOGGING_LEVEL", raising=False)
    loggers = [logging.getLogger(name) for name in ("forecasting", *NOISY)]
    before = [logger.level for logger in loggers]
    try:
        setup_logging(verbose)
        assert logging.getLevelName(loggers[0].level) == ours
        assert logging.getLevelName(logging.getLogger("mlflow").level) == theirs
    finally:
        for logger, level in zip(loggers, before, strict=True):
            logger.setLevel(level)
    assert os.environ["MLFLOW_LOGGING_LEVEL"] == theirs  # MLflow reads it when imported
