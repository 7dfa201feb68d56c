"""Calendar events (public holidays and shopping days) computed offline from rules."""

from __future__ import annotations

import pandas as pd
from dateutil.relativedelta import MO
from pandas.tseries.holiday import (
    AbstractHolidayCalendar,
    EasterMonday,
    GoodFriday,
    Holiday,
    USFederalHolidayCalendar,
    USThanksgivingDay,
)
from pandas.tseries.offsets import DateOffset, Day, Easter

__all__ = ["holiday_events"]


class _UKBankHolidays(AbstractHolidayCalendar):
    rules = [
        Holiday("New Year's Day", month=1, day=1),
        GoodFriday,
        EasterMonday,
        Holiday("Early May Bank Holiday", month=5, day=1, offset=DateOffset(weekday=MO(1))),
        Holiday("Spring Bank Holiday", month=5, day=31, offset=DateOffset(weekday=MO(-1))),
        Holiday("Summer Bank Holiday", month=8, day=31, offset=DateOffset(weekday=MO(-1))),
        Holiday("Christmas Day", month=12, day=25),
        Holiday("Boxing Day", month=12, day=26),
    ]


def _shopping_days(start: pd.Timestamp, end: pd.Timestamp) -> list[tuple[pd.Timestamp, str]]:
    days: list[tuple[pd.Timestamp, str]] = []
    for year in range(start.year, end.year + 1):
        thanksgiving = USThanksgivingDay.dates(f"{year}-01-01", f"{year}-12-31")[0]
        days += [
            (thanksgiving + Day(1), "Black Friday"),
            (thanksgiving + Day(4), "Cyber Monday"),
            (pd.Timestamp(year, 2, 14), "Valentine's Day"),
            (pd.Timestamp(year, 12, 24), "Christmas Eve"),
            (pd.Timestamp(year, 12, 31), "New Year's Eve"),
            (pd.Timestamp(year, 1, 1) + Easter(), "Easter Sunday"),
        ]
    return [(d, n) for d, n in days if start <= d <= end]


def holiday_events(
    start: str | pd.Timestamp, end: str | pd.Timestamp, country: str = "US"
) -> pd.DataFrame:
    """Public holidays (``kind='holiday'``) and shopping days (``kind='shopping'``).

    Args:
        start: First date (inclusive).
        end: Last date (inclusive).
        country: ``"US"`` (federal holidays) or ``"GB"`` (England's bank holidays).

    Returns:
        Frame with ``event_date`` (datetime64), ``name``, ``kind``; one row per event,
        sorted by date.
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if country == "US":
        calendar: AbstractHolidayCalendar = USFederalHolidayCalendar()
    elif country == "GB":
        calendar = _UKBankHolidays()
    else:
        raise ValueError(f"country must be 'US' or 'GB', not {country!r}")
    hol = calendar.holidays(start, end, return_name=True)
    rows = [(d, str(n), "holiday") for d, n in hol.items()]
    rows += [(d, n, "shopping") for d, n in _shopping_days(start, end)]
    frame = pd.DataFrame(rows, columns=["event_date", "name", "kind"])
    frame["event_date"] = pd.to_datetime(frame["event_date"])
    return frame.drop_duplicates(["event_date", "name"]).sort_values(
        ["event_date", "name"], ignore_index=True
    )
