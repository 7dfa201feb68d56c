"""Flags derived from a run configuration model, as the DAG derives its params.

One flag per field of :class:`~forecasting.config.PipelineConfig` (or
:class:`~forecasting.customers.config.CustomerConfig`): ``n_windows`` is ``--n-windows``,
its help is the field's description and its default the model's, so a new field, a changed
default or a better description shows in ``--help`` without touching the CLI. Nested
policies (promotion, checks, monitoring thresholds) keep their code defaults here; the
DAG's trigger form sets them.
"""

from __future__ import annotations

import argparse
import json
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from forecasting.cli.errors import UsageError

__all__ = ["add_config_flags", "config_from_args", "flag_fields", "flag_of"]


def flag_of(field: str) -> str:
    """The flag of a configuration field (``n_windows`` -> ``--n-windows``)."""
    return "--" + field.replace("_", "-")


def _base_type(annotation: Any) -> Any:
    """The type a field holds, without ``| None`` (``tuple[str, ...]`` -> ``tuple``)."""
    if get_origin(annotation) in (Union, UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    return get_origin(annotation) or annotation


def _shown(default: Any) -> str:
    if isinstance(default, tuple | list):
        return ",".join(map(str, default))
    if isinstance(default, dict):
        return json.dumps(default)
    return str(default)


#: How ``--help`` names a flag's value, by the field's type.
_METAVARS = {int: "N", float: "X", str: "NAME"}


def _comma_list(text: str) -> tuple[str, ...]:
    return tuple(text.split(","))


def flag_fields(config_class: type[BaseModel]) -> list[str]:
    """The fields a flag sets: every field but nested models (thresholds)."""
    return [
        name
        for name, field in config_class.model_fields.items()
        if not (
            isinstance(_base_type(field.annotation), type)
            and issubclass(_base_type(field.annotation), BaseModel)
        )
    ]


def add_config_flags(parser: argparse.ArgumentParser, config_class: type[BaseModel]) -> None:
    """Add one flag per field of ``config_class`` (see the module docstring) in a group of
    its own. Every flag defaults to ``None`` ("not given"): the model supplies the default,
    which the help shows.

    Args:
        parser: The command's parser.
        config_class: A pydantic model whose fields have descriptions and defaults.
    """
    defaults = config_class()
    group = parser.add_argument_group(
        "run configuration",
        f"the {config_class.__name__} fields, as the DAG's params; a flag not given keeps "
        "the default shown",
    )
    for name in flag_fields(config_class):
        field = config_class.model_fields[name]
        default = getattr(defaults, name)
        about = (field.description or name.replace("_", " ")).replace("%", "%%")
        base = _base_type(field.annotation)
        if base is bool:
            group.add_argument(flag_of(name), action="store_true", default=None, help=about)
            continue
        kind: dict[str, Any] = {"type": base, "metavar": _METAVARS.get(base, "VALUE")}
        if base in (tuple, list):
            kind = {"type": _comma_list, "metavar": "A,B"}
            about = f"{about}, comma-separated"
        elif base is dict:
            kind = {"metavar": "JSON"}  # parsed by config_from_args, which names the flag
        shown = "" if default is None or default == {} else f" (default {_shown(default)})"
        group.add_argument(flag_of(name), default=None, help=about + shown, **kind)


def config_from_args(args: argparse.Namespace, config_class: type[BaseModel]) -> Any:
    """The configuration the flags give, validated (for the demand model: every candidate
    built with its overrides) before any work starts.

    Args:
        args: Parsed flags of a command built with :func:`add_config_flags`.
        config_class: The same model.

    Returns:
        An instance of ``config_class``: the flags given, the code's defaults for the rest.

    Raises:
        UsageError: Naming the flag, what is wrong and the value given.
    """
    fields = flag_fields(config_class)
    given: dict[str, Any] = {}
    for name in fields:
        value = getattr(args, name, None)
        if value is None:
            continue
        if _base_type(config_class.model_fields[name].annotation) is dict:
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise UsageError(f"{flag_of(name)} is not valid JSON: {exc}") from exc
        given[name] = value
    from forecasting.config import describe_invalid

    try:
        return config_class(**given)
    except ValidationError as exc:
        names = set(fields)
        raise UsageError(describe_invalid(exc, lambda f: flag_of(f) if f in names else f)) from exc
