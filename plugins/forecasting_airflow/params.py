"""DAG params derived from :class:`forecasting.config.PipelineConfig`: one source of truth.

The trigger form shows every field of the run configuration with its default, bounds and
description from the library; the DAG file does not repeat any of them.
"""

from __future__ import annotations

from datetime import timedelta
from types import UnionType
from typing import Any, Union, get_args, get_origin

from airflow.sdk import Param

__all__ = ["CONNECTION_PARAMS", "DEFAULT_ARGS", "pipeline_params"]

#: Task defaults of every forecasting DAG: retries with backoff for transient failures
#: (bad data fails at once, see ``fail_without_retry``), and a ceiling per task.
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "forecasting",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=20),
    "execution_timeout": timedelta(hours=2),
}

#: Connection ids a run reads its databases and storage through.
CONNECTION_PARAMS = {
    "source_conn_id": ("forecasting_source", "Airflow connection of the shop database"),
    "warehouse_conn_id": ("forecasting_warehouse", "connection of the forecast tables"),
    "storage_conn_id": ("forecasting_storage", "connection of the object storage (s3://...)"),
}


_JSON_TYPES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    tuple: "array",
    list: "array",
    dict: "object",
}


def _schema(annotation: Any) -> dict[str, Any]:
    """JSON-schema type of a field annotation (``int | None`` -> ``["integer", "null"]``)."""
    args = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else ()
    members = [a for a in args if a is not type(None)] or [annotation]
    base = get_origin(members[0]) or members[0]
    json_type = _JSON_TYPES.get(base, "object")  # nested settings (pydantic models): objects
    return {"type": [json_type, "null"] if len(members) < len(args) else json_type}


def pipeline_params(
    config_class: Any = None, enums: dict[str, tuple[str, ...]] | None = None
) -> dict[str, Param]:
    """One ``Param`` per field of ``config_class`` (default :class:`PipelineConfig`), plus
    the connection ids; ``enums`` lists the allowed items of array fields."""
    from forecasting.config import PipelineConfig
    from forecasting.names import MODEL_NAMES

    config_class = config_class or PipelineConfig
    enums = {"models": MODEL_NAMES} if enums is None else enums
    defaults = config_class()
    params: dict[str, Param] = {}
    for name, field in config_class.model_fields.items():
        default = getattr(defaults, name)
        if hasattr(default, "model_dump"):
            default = default.model_dump()
        if isinstance(default, tuple):
            default = list(default)
        schema = _schema(field.annotation)
        for meta in field.metadata:
            for key, json_key in (("ge", "minimum"), ("le", "maximum")):
                if getattr(meta, key, None) is not None:
                    schema[json_key] = getattr(meta, key)
        if name in enums:
            schema["items"] = {"type": "string", "enum": list(enums[name])}
        params[name] = Param(default, description=field.description or name, **schema)
    for name, (default, description) in CONNECTION_PARAMS.items():
        params[name] = Param(default, type="string", description=description)
    return params
