"""``publish``: both customer tables of the day in one transaction, forgotten customers
removed from every date."""

from __future__ import annotations

from datetime import date

from forecasting import artifacts
from forecasting.pipelines.customers.handoffs import Published, Scored
from forecasting.resources import Resources
from forecasting.storage import read_parquet

__all__ = ["publish_customers_step"]


def publish_customers_step(
    run_day: date, scored: Scored, resources: Resources, key: bytes
) -> Published:
    """Replace the date's rows of ``customer_propensity`` and ``customer_recommendations``
    in one transaction; opted-out customers leave every date's rows (their pseudonyms are
    computed from the shop's ``customer_optouts`` and the key, never stored)."""
    from forecasting.customers.privacy import forgotten_pseudonyms
    from forecasting.publishing.customers import publish_customers

    folder = resources.storage.open(scored.uri)
    forgotten = forgotten_pseudonyms(resources.source, key)
    resources.storage.check_fence()  # a run that lost its date's lease never publishes
    rows = publish_customers(
        resources.warehouse,
        run_day,
        read_parquet(folder / artifacts.CUSTOMER_PROPENSITY),
        read_parquet(folder / artifacts.CUSTOMER_RECOMMENDATIONS),
        scored.versions,
        forgotten,
    )
    return Published(rows=rows, versions=scored.versions, run_date=run_day.isoformat())
