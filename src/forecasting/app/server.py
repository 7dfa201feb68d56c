"""The planner app: a small web app planners open in a browser (FastAPI, server-rendered).

Pages: ``/`` (the latest run's series, searchable and filtered), ``/series?sku=..&location_id=..``
(one series: chart, drivers, change explanation, lead-time quantities, the replenishment
suggestion and its decisions) and ``/report/<run date>`` (the run's static report from the
storage folder, read-only). ``POST /series/decision`` records a planner's decision on a
suggestion and redirects back to the series page (POST-redirect-GET).

Templates are Jinja2 with autoescaping on, so everything from the shop's data (product
names, SKUs, notes) is escaped; charts are inline SVG drawn from coordinates computed in
Python. The pages load nothing but their own stylesheet: no script, no CDN, no font, and a
Content-Security-Policy that forbids anything else.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import jinja2
import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from upath import UPath

from forecasting.app import queries
from forecasting.app.charts import series_chart

__all__ = ["NAME_COOKIE", "USER_HEADERS", "create_app", "serve"]

log = logging.getLogger(__name__)

_HERE = Path(__file__).resolve().parent
#: Headers an authenticating reverse proxy sets to the signed-in user, first found wins.
USER_HEADERS = ("remote-user", "x-forwarded-user")
#: Cookie that remembers the name a planner typed (when no proxy says who they are).
NAME_COOKIE = "planner_name"
#: The app's pages: their own stylesheet, inline SVG, a data: favicon, forms to themselves.
_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
#: The static report: self-contained, with its inline stylesheet, script and PNG data URIs.
_REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_RUN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_BUCKET = re.compile(r"(\d+)-(\d+)")
#: Driver rows drawn first and last; the input groups in between alphabetically.
_FIRST_GROUP, _LAST_GROUP = "reference", "model_baseline"


def _number(value: Any, digits: int = 1) -> str:
    """A quantity for people: thousands separated, ``digits`` decimals, "" for none."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return f"{float(value):,.{digits}f}"


def _signed(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return f"{float(value):+,.{digits}f}"


def _series_url(sku: str, location_id: str, **extra: str) -> str:
    return "/series?" + urlencode({"sku": sku, "location_id": location_id, **extra})


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _number
    env.filters["signed"] = _signed
    env.globals["series_url"] = _series_url
    return env


def _bucket_days(label: str) -> tuple[int, int] | None:
    """Days after the run a horizon bucket covers (``"8-14"`` -> ``(8, 14)``)."""
    match = _BUCKET.fullmatch(str(label))
    return (int(match.group(1)), int(match.group(2))) if match else None


def _drivers_table(page: queries.SeriesPage) -> dict[str, Any] | None:
    """Drivers as rows of input groups by columns of buckets, with each bucket's sum of
    contributions and its forecast total (they agree: the rows add up to the forecast)."""
    if page.drivers.empty or page.run_date is None:
        return None
    buckets = sorted(
        {str(b) for b in page.drivers["horizon_bucket"]},
        key=lambda b: _bucket_days(b) or (999, 999),
    )
    groups = sorted(
        {str(g) for g in page.drivers["input_group"]},
        key=lambda g: (g != _FIRST_GROUP, g == _LAST_GROUP, g),
    )
    cells = {
        (str(r["input_group"]), str(r["horizon_bucket"])): float(r["contribution"])
        for r in page.drivers.to_dict("records")
    }
    forecast_totals: list[float | None] = []
    for bucket in buckets:
        days = _bucket_days(bucket)
        if days is None or page.forecast.empty:
            forecast_totals.append(None)
            continue
        ahead = [(d - page.run_date).days for d in page.forecast["target_date"]]
        inside = [days[0] <= a <= days[1] for a in ahead]
        forecast_totals.append(float(page.forecast.loc[inside, "forecast"].sum()))
    return {
        "buckets": buckets,
        "rows": [(g, [cells.get((g, b)) for b in buckets]) for g in groups],
        "sums": [sum(cells.get((g, b), 0.0) for g in groups) for b in buckets],
        "forecast": forecast_totals,
    }


def _changes_table(page: queries.SeriesPage) -> dict[str, Any] | None:
    if page.changes.empty:
        return None
    rows = page.changes.to_dict("records")
    return {
        "previous_run_date": rows[0]["previous_run_date"],
        "rows": [(str(r["part"]), str(r["input_group"]), float(r["contribution"])) for r in rows],
        "total": float(sum(r["contribution"] for r in rows)),
    }


def _planner_from_proxy(request: Request) -> str:
    for header in USER_HEADERS:
        user = request.headers.get(header, "").strip()
        if user:
            return user
    return ""


def _same_origin(request: Request) -> bool:
    """Whether a form post comes from one of the app's own pages (a browser sends
    ``Origin`` with every POST; another site's form must not record decisions)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def create_app(warehouse: Engine, report_root: str | Path | None = None) -> FastAPI:
    """The planner app over a warehouse.

    Args:
        warehouse: The warehouse engine. Reads need ``SELECT`` on the forecast tables;
            decisions need ``INSERT`` on ``replenishment_decisions`` (the planner role).
            Tables it lacks show as "nothing yet" on the pages.
        report_root: The storage root the DAG's ``report`` task writes to: a folder or
            a URI (``FORECASTING_STORAGE_URI``'s value: ``file://``, ``s3://``...);
            ``None``: no links to reports.

    Returns:
        The FastAPI application (serve it with uvicorn, or :func:`serve`).
    """
    env = _environment()
    app = FastAPI(
        title="Demand planner",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    def page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(template).render(**context), status_code)

    def report_path(run_day: date) -> UPath | None:
        if report_root is None:
            return None
        from forecasting.reporting.planner import REPORT_ARTIFACT
        from forecasting.storage import Storage

        try:
            folder = Storage.from_uri(str(report_root)).committed(run_day, "report")
            path = None if folder is None else folder / REPORT_ARTIFACT
            return path if path is not None and path.is_file() else None
        except (OSError, RuntimeError, ValueError) as exc:
            log.warning("report of %s unreadable: %s", run_day, exc)
            return None

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", _CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> HTMLResponse:
        return page("error.html.j2", exc.status_code, title="Error", message=str(exc.detail))

    @app.get("/", response_class=HTMLResponse)
    def index(q: str = "", category: str = "", location: str = "") -> HTMLResponse:
        data = queries.overview(warehouse, query=q, category=category, location=location)
        report = data.run_date is not None and report_path(data.run_date) is not None
        return page(
            "index.html.j2",
            title="Forecasts",
            data=data,
            q=q,
            category=category,
            location=location,
            report=report,
        )

    @app.get("/series", response_class=HTMLResponse)
    def series(request: Request, sku: str, location_id: str, saved: str = "") -> HTMLResponse:
        data = queries.series_page(warehouse, sku, location_id)
        if data.run_date is not None and data.forecast.empty and data.history.empty:
            raise HTTPException(404, f"no series {sku!r} at {location_id!r} in the latest run")
        chart = (
            series_chart(data.run_date, data.history, data.forecast, data.actuals)
            if data.run_date is not None
            else None
        )
        proxy_user = _planner_from_proxy(request)
        return page(
            "series.html.j2",
            title=data.name or sku,
            data=data,
            chart=chart,
            drivers=_drivers_table(data),
            changes=_changes_table(data),
            leadtime=data.leadtime.to_dict("records"),
            saved=saved,
            proxy_user=proxy_user,
            remembered=unquote(request.cookies.get(NAME_COOKIE, "")),
        )

    @app.post("/series/decision")
    async def decide(request: Request) -> Response:
        if not _same_origin(request):
            raise HTTPException(403, "decisions are taken on the app's own pages only")
        body = (await request.body()).decode("utf-8", errors="replace")
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        sku, location_id = form.get("sku", ""), form.get("location_id", "")
        raw_day = form.get("run_date", "")
        if not sku or not location_id or not _RUN_DATE.fullmatch(raw_day):
            raise HTTPException(400, "the form lacks the series or its run date")
        proxy_user = _planner_from_proxy(request)
        who = proxy_user or form.get("decided_by", "")
        try:
            decision = await run_in_threadpool(
                partial(
                    queries.record_decision,
                    warehouse,
                    date.fromisoformat(raw_day),
                    sku,
                    location_id,
                    form.get("order_qty", ""),
                    who,
                    form.get("note", ""),
                )
            )
        except (queries.DecisionError, ValueError) as exc:
            return page(
                "error.html.j2",
                400,
                title="Decision not recorded",
                message=str(exc),
                back=_series_url(sku, location_id),
            )
        response = RedirectResponse(
            _series_url(sku, location_id, saved=decision.decision), status_code=303
        )
        if not proxy_user:
            response.set_cookie(
                NAME_COOKIE,
                quote(decision.decided_by),
                max_age=365 * 24 * 3600,
                httponly=True,
                samesite="strict",
            )
        return response

    @app.get("/report/{run_date}")
    def report(run_date: str) -> Response:
        if not _RUN_DATE.fullmatch(run_date):
            raise HTTPException(404, "no such report")
        try:
            run_day = date.fromisoformat(run_date)
        except ValueError:
            raise HTTPException(404, "no such report") from None
        path = report_path(run_day)
        if path is None:
            raise HTTPException(404, f"no report of {run_day} in the storage folder")
        return HTMLResponse(
            path.read_text(encoding="utf-8"),
            headers={"Content-Security-Policy": _REPORT_CSP},
        )

    @app.get("/static/app.css")
    def stylesheet() -> Response:
        css = (_HERE / "static" / "app.css").read_text(encoding="utf-8")
        return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)

    return app


def serve(
    warehouse_url: str,
    host: str = "127.0.0.1",
    port: int = 8050,
    report_root: str | Path | None = None,
) -> None:
    """Run the planner app with uvicorn until interrupted.

    Args:
        warehouse_url: SQLAlchemy URL of the warehouse, best the read-only planner role
            (``SELECT`` on the forecast tables, ``INSERT`` on ``replenishment_decisions``).
        host: Interface to listen on; the default serves this machine only (put an
            authenticating reverse proxy in front to serve others).
        port: TCP port.
        report_root: The storage root holding the runs' reports (a folder or a URI).
    """
    import uvicorn

    from forecasting.db import make_engine, redact_url

    engine = make_engine(warehouse_url)
    log.info("planner app on http://%s:%d over %s", host, port, redact_url(warehouse_url))
    uvicorn.run(create_app(engine, report_root), host=host, port=port, log_level="info")
