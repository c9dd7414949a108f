"""How often bulk notices (flows rejected, invoices made available) are mailed: each one at
once, grouped in one message per short window, or one summary a day. Pure functions."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from chorale_notifications.domain.categories import Category


class Frequency(StrEnum):
    IMMEDIAT = "IMMEDIAT"
    GROUPE = "GROUPE"
    QUOTIDIEN = "QUOTIDIEN"


# Categories that come by the hundred when a partner deposits in bulk.
GROUPABLE: frozenset[Category] = frozenset({
    Category.FLUX_REJETE, Category.FACTURE_MISE_A_DISPOSITION,
})
DEFAULT = Frequency.GROUPE


def labels(window_seconds: float, daily_hour: int) -> dict[Frequency, str]:
    minutes = max(1, round(window_seconds / 60))
    return {
        Frequency.IMMEDIAT: "Immédiatement, un courriel par notification",
        Frequency.GROUPE: f"Regroupées : au plus un courriel toutes les {minutes} minute"
                          f"{'s' if minutes > 1 else ''}",
        Frequency.QUOTIDIEN: f"Un récapitulatif par jour, à {daily_hour} h",
    }


def frequency_of(category: Category, choices: dict[str, str],
                 default: Frequency = DEFAULT) -> Frequency:
    if category not in GROUPABLE:
        return Frequency.IMMEDIAT
    try:
        return Frequency(choices.get(category.value, default))
    except ValueError:
        return default


def due_at(frequency: Frequency, opened_at: datetime, window_seconds: float, daily_hour: int,
           zone: ZoneInfo) -> datetime:
    """When a digest opened at `opened_at` is sent: a window later, or at the next daily
    hour (local time)."""
    if frequency is Frequency.QUOTIDIEN:
        local = opened_at.astimezone(zone)
        send = datetime.combine(local.date(), time(daily_hour), tzinfo=zone)
        if send <= local:
            send = datetime.combine(local.date() + timedelta(days=1), time(daily_hour),
                                    tzinfo=zone)
        return send.astimezone(opened_at.tzinfo)
    return opened_at + timedelta(seconds=window_seconds)


def hour_label(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.hour} h {local.minute:02d}"


def digest_subject(category: Category, count: int, first: datetime, last: datetime,
                   zone: ZoneInfo) -> str:
    """« 12 flux rejetés entre 10 h 02 et 10 h 05 »."""
    if category is Category.FLUX_REJETE:
        what = "flux rejeté" if count == 1 else "flux rejetés"
    else:
        what = "facture mise à disposition" if count == 1 else "factures mises à disposition"
    start, end = hour_label(first, zone), hour_label(last, zone)
    same_day = first.astimezone(zone).date() == last.astimezone(zone).date()
    if start == end and same_day:
        return f"{count} {what} à {start}"
    if not same_day:
        start = f"{first.astimezone(zone):%d/%m} {start}"
        end = f"{last.astimezone(zone):%d/%m} {end}"
    return f"{count} {what} entre {start} et {end}"
