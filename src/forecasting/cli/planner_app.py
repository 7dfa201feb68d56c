"""The planner app: ``forecasting app --port PORT`` (:mod:`forecasting.app`), a web page per
series over the warehouse's forecasts, drivers and replenishment suggestions, where planners
approve or edit what to order."""

from __future__ import annotations

import argparse
from typing import Any

from forecasting.cli.errors import UsageError
from forecasting.cli.options import Parents, add_warehouse, settings

__all__ = ["DEFAULT_PORT", "register"]

#: The app's port unless ``--port`` says otherwise.
DEFAULT_PORT = 8050


def register(sub: Any, parents: Parents) -> None:
    """Add ``app`` to the ``forecasting`` subcommands ``sub``."""
    p = parents.command(
        sub,
        "app",
        "serve the planner app: search series, see forecasts, drivers and suggestions, "
        "approve or edit orders",
        serve_app,
        db=True,
    )
    add_warehouse(
        p,
        "SQLAlchemy URL of the forecast tables, ideally as the read-only planner role "
        "(default: the source)",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1; 0.0.0.0 behind a proxy or in Docker)",
    )


def serve_app(args: argparse.Namespace) -> int:
    """``forecasting app``: serve until interrupted."""
    from forecasting.app import serve

    if not 0 < args.port < 65536:
        raise UsageError(f"--port must be 1-65535, got {args.port}")
    conf = settings(args)
    print(f"Planner app on http://{args.host}:{args.port}/ (Ctrl-C stops it)", flush=True)
    serve(conf.warehouse_url, host=args.host, port=args.port, report_root=conf.storage_uri)
    return 0
