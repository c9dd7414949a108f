"""Dates, amounts and sizes as a French reader expects them, and the list filters typed in a
page's address read back safely (a bad value is dropped and said, never sent on). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
CURRENCY_SIGNS = {"EUR": "€"}


def date_time_fr(value: str | None) -> str:
    """2025-01-14T09:30:12Z → 14/01/2025 10:30 (Paris time)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


def amount_fr(value: str | None, currency: str | None = None) -> str:
    """1234.5 EUR → 1 234,50 € (narrow no-break spaces, as French typography has them)."""
    if value in (None, ""):
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = f"{number:,.2f}".replace(",", "\u202f").replace(".", ",")
    sign = CURRENCY_SIGNS.get(currency or "", currency or "")
    return f"{text}\u00a0{sign}" if sign else text


def percent_fr(value: str | None) -> str:
    """20.00 → 20 %, 5.5 → 5,5 %."""
    if value in (None, ""):
        return ""
    try:
        number = Decimal(str(value)).normalize()
    except InvalidOperation:
        return str(value)
    return f"{number:f}".replace(".", ",") + "\u00a0%"


# EN 16931 VAT category codes (UNTDID 5305), as an invoice's reader knows them.
VAT_CATEGORIES: dict[str, str] = {
    "S": "Taux normal", "Z": "Taux zéro", "E": "Exonérée", "AE": "Autoliquidation",
    "K": "Livraison intracommunautaire", "G": "Exportation hors UE",
    "O": "Hors champ de la TVA", "L": "IGIC (Canaries)", "M": "IPSI (Ceuta et Melilla)",
}


def vat_category_fr(code: str | None) -> str:
    return VAT_CATEGORIES.get(code or "", code or "")


def size_fr(octets: int | None) -> str:
    if octets is None:
        return ""
    if octets < 1024:
        return f"{octets} octets"
    if octets < 1024 * 1024:
        return f"{octets / 1024:.0f} Ko"
    return f"{octets / (1024 * 1024):.1f} Mo".replace(".", ",")


def day_of(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip()) if text else None
    except ValueError:
        return None


def day_start(day: date) -> str:
    """The first instant of a day in Paris, as the UTC timestamp the services compare."""
    return datetime.combine(day, time(0), PARIS).astimezone(UTC).isoformat()


def day_after(day: date) -> str:
    return day_start(day + timedelta(days=1))


def page_number(params: Mapping[str, str]) -> int:
    try:
        return max(1, min(10_000, int(params.get("page") or 1)))
    except ValueError:
        return 1


def amount_filter(text: str | None) -> float | str | None:
    """A typed amount (« 1 200,50 ») as a number; the text itself back when unreadable."""
    cleaned = (text or "").replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    if not cleaned:
        return None
    try:
        return float(Decimal(cleaned.replace(",", ".")))
    except InvalidOperation:
        return text or ""
