"""Suivi des flux aggregates: windows, zero-filled series, daily sums of hourly buckets."""

from datetime import UTC, datetime

import pytest

from chorale_notifications.domain.stats import assemble, floor, window

NOW = datetime(2026, 11, 26, 15, 42, tzinfo=UTC)


def bucket(hour: int, partner: str, day: int = 26, **counts) -> dict:
    codes = counts.pop("codes", {})
    return {"heure": datetime(2026, 11, day, hour, tzinfo=UTC), "partenaire": partner,
            "statuts": counts, "codesRejet": codes}


def test_the_default_window_is_the_last_day_by_hour_aligned_on_buckets():
    start, end = window(None, None, "heure", NOW)
    assert start == datetime(2026, 11, 25, 15, tzinfo=UTC)
    assert end == datetime(2026, 11, 26, 16, tzinfo=UTC)
    start, end = window(None, None, "jour", NOW)
    assert start == datetime(2026, 10, 27, tzinfo=UTC)
    assert end == floor(NOW, "jour").replace(day=27)


def test_windows_are_checked():
    with pytest.raises(ValueError, match="précéder"):
        window(NOW, datetime(2026, 11, 1, tzinfo=UTC), "heure", NOW)
    with pytest.raises(ValueError, match="trop longue"):
        window(datetime(2026, 1, 1, tzinfo=UTC), NOW, "heure", NOW)


def test_hourly_series_are_zero_filled_and_summed_per_partner():
    start = datetime(2026, 11, 26, 12, tzinfo=UTC)
    end = datetime(2026, 11, 26, 15, tzinfo=UTC)
    out = assemble([
        bucket(12, "P1", IN_RECU=2, IN_REJETE=1, codes={"XSD_INVALID": 1}),
        bucket(14, "P1", IN_RECU=1),
        bucket(14, "P2", IN_RECU=3, IN_INTEGRE=3),
        bucket(16, "P2", IN_RECU=9),  # outside the window
    ], "heure", start, end)
    assert [p["total"] for p in out["series"]] == [3, 0, 7]
    assert out["series"][1]["parStatut"] == dict.fromkeys(out["statuts"], 0)
    totals = {p["partenaire"]: p["total"] for p in out["parPartenaire"]}
    assert totals == {"P1": 4, "P2": 6}
    assert out["codesRejet"] == [{"code": "XSD_INVALID", "nombre": 1}]


def test_daily_series_sum_the_hours_of_each_day():
    start = datetime(2026, 11, 25, tzinfo=UTC)
    end = datetime(2026, 11, 27, tzinfo=UTC)
    out = assemble([bucket(1, "P", day=25, IN_RECU=1), bucket(23, "P", day=25, IN_RECU=2),
                    bucket(0, "P", day=26, IN_INTEGRE=4)], "jour", start, end)
    assert [(p["debut"].day, p["total"]) for p in out["series"]] == [(25, 3), (26, 4)]
