"""The files a newcomer relies on: compose file, pins, CI entry point, README commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


COMPOSE = REPO / "docker-compose.yaml"
#: Variables the code reads that the compose stack leaves unset on purpose.
UNSET_ON_PURPOSE = {
    "FORECASTING_SOURCE_URL": "the forecasting_source connection is used instead",
    "FORECASTING_WAREHOUSE_URL": "the forecasting_warehouse connection is used instead",
    "FORECASTING_SQL_DIR": "the package ships its SQL (forecasting.sql)",
    "FORECASTING_GIT_SHA": "set in the image by the Dockerfile (build arg GIT_SHA)",
    "FORECASTING_READER_PASSWORD": "only airflow-init's command needs it (set there)",
    "FORECASTING_WRITER_PASSWORD": "only airflow-init's command needs it (set there)",
    "FORECASTING_PLANNER_PASSWORD": "only airflow-init's command needs it (set there)",
    "MLFLOW_LOGGING_LEVEL": "set by the forecasting CLI from -v; tasks keep MLflow's default",
}


_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_]\w*))"
)


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a compose ``.env`` file (comments and blank lines skipped)."""
    pairs = (ln.split("=", 1) for ln in path.read_text().splitlines() if "=" in ln)
    return {k.strip(): v.strip() for k, v in pairs if not k.lstrip().startswith("#")}


def interpolate(value: object, env: dict[str, str], errors: list[str]) -> object:
    """Compose's variable interpolation (``$$``, ``$VAR``, ``${VAR}``, ``${VAR:-default}``,
    ``${VAR:?error}`` and their forms without colon, ``${VAR:+alternative}``) of every string
    in a loaded compose file; a missing required variable appends its message to ``errors``."""
    if isinstance(value, dict):
        return {k: interpolate(v, env, errors) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env, errors) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        op, arg, current = match["op"] or "", match["arg"] or "", env.get(name)
        unset = current is None or (op.startswith(":") and current == "")
        if op.endswith("?") and unset:
            errors.append(f"required variable {name} is missing a value: {arg}")
            return ""
        if op.endswith("-") and unset:
            return arg
        if op.endswith("+"):
            return "" if unset else arg
        return current or ""

    return _VARIABLE.sub(substitute, value)


def compose_schema_errors(config: dict) -> list[str]:
    """Where a loaded compose file breaks the Compose Specification's JSON schema (the copy
    that the ``check-jsonschema`` wheel ships; ``docker compose config`` checks the same)."""
    from importlib.resources import files

    import jsonschema

    vendor = files("check_jsonschema.builtin_schemas.vendor")
    schema = json.loads(vendor.joinpath("compose-spec.json").read_text())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(config)
    ]


def compose_config(env_file: Path) -> tuple[dict, list[str]]:
    """docker-compose.yaml as ``docker compose --env-file ENV config`` reads it, without
    Docker: variables interpolated from the env file (anchors and merge keys resolved by
    the YAML loader), then checked against the schema. Returns the file and every error."""
    errors: list[str] = []
    config = interpolate(yaml.safe_load(COMPOSE.read_text()), read_env_file(env_file), errors)
    assert isinstance(config, dict)
    return config, errors + compose_schema_errors(config)


def test_compose_file_is_valid_with_the_example_env() -> None:
    config, errors = compose_config(REPO / ".env.example")
    assert not errors, errors
    worker = config["services"]["airflow-worker"]["environment"]
    assert (
        worker["AIRFLOW_CONN_FORECASTING_SOURCE"]
        == "mysql://fc_reader:change-me-reader@mysql:3306/shop"
    )
    assert config["services"]["airflow-worker"]["healthcheck"]["test"][1].endswith(
        '"celery@${HOSTNAME}"'
    )


def test_compose_validation_catches_what_compose_would_reject() -> None:
    """The schema check is not vacuous: a misspelt key and a wrong type are named."""
    broken = yaml.safe_load(COMPOSE.read_text())
    broken["services"]["redis"]["healthcheck"]["intervall"] = "10s"
    broken["services"]["mysql"]["ports"] = "3306"
    text = " ".join(compose_schema_errors(broken))
    assert "intervall" in text and "'3306' is not of type 'array'" in text, text


def test_compose_has_no_fallback_credentials(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    _, errors = compose_config(empty)
    assert errors and all("in .env" in e for e in errors)  # names the missing variable
    text = COMPOSE.read_text()
    assert ":-" not in text.replace("${AIRFLOW_UID:?", "")  # no ${VAR:-default} anywhere
    referenced = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    example = set(re.findall(r"^([A-Z_]+)=", (REPO / ".env.example").read_text(), re.MULTILINE))
    assert referenced == example, referenced ^ example
    assert ".env" in (REPO / ".gitignore").read_text().split()


def test_compose_wires_the_distributed_stack() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert {
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
        "redis",
        "postgres",
        "mysql",
        "mlflow",
        "mlflow-db",
        "minio",
        "minio-init",
    } <= set(services)
    one_off = {"airflow-init", "minio-init", "forecasting"}
    # The CLI in the stack skips Airflow's entrypoint (which would run `airflow forecasting`)
    # and is started only by `docker compose run --rm forecasting ...`.
    assert services["forecasting"]["entrypoint"] == ["forecasting"]
    assert services["forecasting"]["profiles"] == ["cli"]
    for name, service in services.items():
        for target in service.get("depends_on", {}):
            assert target in services, f"{name} depends on undefined {target}"
        if name not in one_off and "expose" not in service.get("profiles", []):
            assert "healthcheck" in service, f"{name} has no health check"
        assert str(service.get("user", "")).split(":")[0] not in ("0", "root"), name
        command = json.dumps([service.get("command"), service.get("entrypoint")])
        assert "pip install" not in command, f"{name} installs packages at start"
        published = service.get("ports", [])
        if "expose" in service.get("profiles", []):
            assert all(str(p).startswith("127.0.0.1:") for p in published), name
        elif name == "planner-app":  # planners' UI: the host's loopback (an auth proxy in front)
            assert published == ["127.0.0.1:8050:8050"], published
        elif name != "airflow-apiserver":
            assert not published, f"{name} is published on the host"
    env = services["airflow-worker"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert env["FORECASTING_STORAGE_URI"].startswith("s3://")
    assert env["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert env["AIRFLOW_CONN_FORECASTING_SOURCE"].startswith("mysql://fc_reader:")
    assert env["AIRFLOW_CONN_FORECASTING_WAREHOUSE"].startswith("mysql://fc_writer:")
    # The planner app reads the warehouse as the read-only planner user.
    app = services["planner-app"]
    assert app["entrypoint"] == ["forecasting"] and app["command"][0] == "app"
    assert app["environment"]["FORECASTING_WAREHOUSE_URL"].startswith("mysql://planner:")
    assert "backend-store-uri=postgresql" in " ".join(services["mlflow"]["command"])
    assert "s3://mlflow" in " ".join(services["mlflow"]["command"])


def test_every_variable_the_code_reads_is_set_in_compose() -> None:
    read, constants = set(), set()
    for folder in ("src", "dags", "plugins"):
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text()
            read |= set(re.findall(r'"((?:FORECASTING|MLFLOW)_[A-Z_]+)"', text))
            constants |= set(re.findall(r"^([A-Z_]+)(?:: \S+)? = ", text, re.MULTILINE))
    read -= constants  # names in __all__ (e.g. artifacts.MLFLOW_BACKTEST_PLOT), not variables
    env = yaml.safe_load(COMPOSE.read_text())["x-airflow-common"]["environment"]
    missing = sorted(v for v in read if v not in env and v not in UNSET_ON_PURPOSE)
    assert not missing, missing
    assert "FORECASTING_GIT_SHA" in (REPO / "Dockerfile").read_text()
    init = " ".join(yaml.safe_load(COMPOSE.read_text())["services"]["airflow-init"]["command"])
    for name in ("READER", "WRITER", "PLANNER"):
        assert f"FORECASTING_{name}_PASSWORD=" in init


def pins(name: str) -> dict[str, str]:
    """``package: version`` of a requirements file's pins (comments stripped)."""
    lines = [ln.split("#")[0].strip() for ln in (REPO / name).read_text().splitlines()]
    pinned = [ln for ln in lines if ln]
    assert pinned and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][\w.]*", p) for p in pinned)
    return dict(p.lower().split("==") for p in pinned)


def test_the_image_installs_the_runtime_requirements_and_every_file_it_copies_exists() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM apache/airflow:3\.3\.2-python3\.11$", dockerfile, re.MULTILINE)
    assert pins("requirements-runtime.txt")["apache-airflow"] == "3.3.2"  # the image's Airflow
    assert "--only-binary=:all: -r /opt/forecasting/requirements-runtime.txt" in dockerfile
    steps = "\n".join(ln for ln in dockerfile.splitlines() if not ln.startswith("#"))
    assert not re.search(r"requirements(-dev|-bench)?\.txt", steps)  # runtime only
    for line in re.findall(r"^COPY (?:--\S+ )*(.+) \S+$", dockerfile, re.MULTILINE):
        for source in line.split():
            assert (REPO / source).exists(), source
    compose = yaml.safe_load(COMPOSE.read_text())
    for name, service in compose["services"].items():
        if service.get("build"):
            assert service["build"] == "." and (REPO / "Dockerfile").exists(), name


def test_requirements_are_exact_pins_each_once() -> None:
    """requirements.txt (what make install and CI install) is the runtime, benchmark and
    development files; each package is pinned once, and the image's file has no test tools
    and no benchmark peers."""
    parts = ["requirements-runtime.txt", "requirements-bench.txt", "requirements-dev.txt"]
    top = [ln for ln in (REPO / "requirements.txt").read_text().splitlines() if ln[:1] not in "#"]
    assert top == [f"-r {p}" for p in parts]
    files = {p: pins(p) for p in parts}
    every = [name for pinned in files.values() for name in pinned]
    assert len(every) == len(set(every)), sorted(n for n in every if every.count(n) > 1)
    runtime = files["requirements-runtime.txt"]
    assert {"tensorflow-cpu", "keras", "mlflow", "great-expectations"} <= set(runtime)
    assert not {"pytest", "ruff", "mypy", "statsforecast", "mlforecast", "lightgbm"} & set(runtime)


def test_ci_runs_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in readme and "make demo" in readme
    assert re.search(r"^make test$", ci, flags=re.MULTILINE)


def test_pyproject_lists_every_package_and_ships_the_sql() -> None:
    """A plain (non-editable) install, such as the Docker image's, has every subpackage
    and the SQL files of include/sql as forecasting.sql."""
    text = (REPO / "pyproject.toml").read_text()
    listed = set(re.findall(r'"(forecasting(?:\.[a-z_]+)*)"', text))
    found = {
        ".".join(p.parent.relative_to(REPO / "src").parts)
        for p in (REPO / "src" / "forecasting").rglob("__init__.py")
    }
    found |= {
        "forecasting.sql." + p.name for p in (REPO / "include" / "sql").iterdir() if p.is_dir()
    }
    assert found | {"forecasting.sql"} <= listed, sorted(found - listed)
    assert '"forecasting.sql" = "include/sql"' in text


def _nav_pages(node: object) -> list[str]:
    """Every page a mkdocs.yml ``nav`` entry names (sections nest lists of ``title: page``)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [page for item in node for page in _nav_pages(item)]
    if isinstance(node, dict):
        return [page for value in node.values() for page in _nav_pages(value)]
    return []


def test_the_readme_stays_short_and_every_docs_page_is_in_the_nav() -> None:
    """README.md is what it is and how to start (under 8 KB); the rest is the docs site, where
    a page missing from mkdocs.yml's nav would be built but reachable by no menu."""
    size = (REPO / "README.md").stat().st_size
    assert size < 8 * 1024, f"README.md is {size} bytes: move detail into docs/"
    mkdocs = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    docs = REPO / mkdocs.get("docs_dir", "docs")
    pages = {p.relative_to(docs).as_posix() for p in docs.rglob("*.md")}
    nav = _nav_pages(mkdocs["nav"])
    assert len(nav) == len(set(nav)), sorted(p for p in nav if nav.count(p) > 1)
    assert pages == set(nav), {"not in nav": pages - set(nav), "no such page": set(nav) - pages}
