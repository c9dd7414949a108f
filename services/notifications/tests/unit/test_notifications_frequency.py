"""How often bulk notices are mailed: preferences, due times, the digest's subject, and the
order in which waiting mails leave."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from chorale_notifications.domain.categories import BULK, NORMAL, URGENT, Category, priority
from chorale_notifications.domain.frequency import (
    Frequency,
    digest_subject,
    due_at,
    frequency_of,
)

PARIS = ZoneInfo("Europe/Paris")


def test_bulk_categories_are_grouped_by_default_and_others_always_immediate():
    assert frequency_of(Category.FLUX_REJETE, {}) is Frequency.GROUPE
    assert frequency_of(Category.FLUX_REJETE, {"FLUX_REJETE": "QUOTIDIEN"}) is \
        Frequency.QUOTIDIEN
    assert frequency_of(Category.FACTURE_MISE_A_DISPOSITION, {}, Frequency.IMMEDIAT) is \
        Frequency.IMMEDIAT
    assert frequency_of(Category.SECURITE_COMPTE, {"SECURITE_COMPTE": "QUOTIDIEN"}) is \
        Frequency.IMMEDIAT


def test_a_digest_is_due_a_window_later_or_at_the_next_daily_hour():
    opened = datetime(2026, 12, 3, 9, 2, tzinfo=UTC)  # 10 h 02 in Paris
    assert due_at(Frequency.GROUPE, opened, 180, 8, PARIS) == opened.replace(minute=5)
    assert due_at(Frequency.QUOTIDIEN, opened, 180, 8, PARIS) == \
        datetime(2026, 12, 4, 7, 0, tzinfo=UTC)
    early = datetime(2026, 12, 3, 5, 0, tzinfo=UTC)  # 6 h in Paris: today at 8 h
    assert due_at(Frequency.QUOTIDIEN, early, 180, 8, PARIS) == \
        datetime(2026, 12, 3, 7, 0, tzinfo=UTC)


def test_the_digest_subject_says_how_many_and_between_which_hours():
    first = datetime(2026, 12, 3, 9, 2, tzinfo=UTC)
    last = datetime(2026, 12, 3, 9, 5, 40, tzinfo=UTC)
    assert digest_subject(Category.FLUX_REJETE, 12, first, last, PARIS) == \
        "12 flux rejetés entre 10 h 02 et 10 h 05"
    assert digest_subject(Category.FLUX_REJETE, 1, first, first, PARIS) == \
        "1 flux rejeté à 10 h 02"
    assert digest_subject(Category.FACTURE_MISE_A_DISPOSITION, 3, first, last, PARIS) == \
        "3 factures mises à disposition entre 10 h 02 et 10 h 05"


def test_account_security_mails_go_first_and_bulk_notices_last():
    assert priority(Category.SECURITE_COMPTE) == URGENT
    assert priority(Category.RATTACHEMENT_DEMANDE) == NORMAL
    assert priority(Category.FLUX_REJETE) == priority(Category.FACTURE_MISE_A_DISPOSITION) == BULK
    assert URGENT < NORMAL < BULK
