"""Pages from templates: the Jinja2 environment of ``templates/`` and the report's tables.

Every page renders through :func:`render` with autoescaping on, so shop text (SKUs,
locations, product names, reasons) is escaped by default; no HTML is assembled in Python.
Tables are handed to the templates as :class:`Table` values: the header, and each cell's
text, sort key and whether it is a number (shop text gets ``dir="auto"``, so right-to-left
names stay in their cell).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2
import numpy as np
import pandas as pd

__all__ = ["Cell", "Table", "render", "table_of"]


@dataclass(frozen=True)
class Cell:
    """One table cell.

    Attributes:
        text: What the cell shows (formatted numbers, or the text as it is).
        sort: The exact value the sorting script compares (numbers only; ``""`` else).
        number: Whether the cell holds a number (right-aligned, sorted numerically).
    """

    text: str
    sort: str = ""
    number: bool = False


@dataclass(frozen=True)
class Table:
    """A sortable table of a page (``macros.html.j2`` draws it).

    Attributes:
        id: The table's element id (also of the "None." line that replaces an empty table).
        columns: Header texts.
        rows: Cells, row by row.
    """

    id: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def _cell(value: Any, digits: int) -> Cell:
    if isinstance(value, (int, np.integer)):
        return Cell(f"{int(value):,}", str(int(value)), number=True)
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return Cell("", "", number=True)
        return Cell(f"{value:,.{digits}f}", str(float(value)), number=True)
    return Cell(str(value))


def table_of(frame: pd.DataFrame, table_id: str, digits: int = 2) -> Table:
    """A frame as a :class:`Table`: integers with thousands separators, floats with
    ``digits`` decimals (blank if not finite), anything else as text."""
    rows = tuple(
        tuple(_cell(value, digits) for value in row)
        for row in frame.itertuples(index=False, name=None)
    )
    return Table(table_id, tuple(str(c) for c in frame.columns), rows)


@cache
def _environment() -> jinja2.Environment:
    """The templates' environment, built once: autoescaping on for HTML templates (and
    for anything not named otherwise); ``report.css`` and ``report.js`` are included
    verbatim."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("forecasting.reporting", "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2"),
            disabled_extensions=("css", "js"),
            default=True,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, **context: Any) -> str:
    """Render one of ``templates/`` with ``context`` (autoescaped).

    Raises:
        jinja2.UndefinedError: If the template uses a name ``context`` does not give.
    """
    return _environment().get_template(template).render(**context)
