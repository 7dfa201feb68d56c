"""Writers for the shop's source schema: a synthetic generator and real-data importers."""

from forecasting.sources.shop import (
    ShopData,
    create_forecast_tables,
    create_source_tables,
    load_shop,
)

__all__ = ["ShopData", "create_forecast_tables", "create_source_tables", "load_shop"]
