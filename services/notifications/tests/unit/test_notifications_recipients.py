"""Who is told: the rules of DESIGN.md §6 "Notifications" on the read model of a structure."""

from chorale_notifications.domain.recipients import (
    GrantView,
    attached_users,
    gestionnaires,
    invoice_readers,
    live_grants,
)

GRANTS = [
    GrantView("orga", "ORGANISATION", "MODIFICATION"),
    GrantView("orga-s1", "ORGANISATION", "MODIFICATION", "S1"),
    GrantView("orga-s2", "ORGANISATION", "MODIFICATION", "S2"),
    GrantView("lecteur-orga", "ORGANISATION", "CONSULTATION"),
    GrantView("fr", "FACTURES_RECUES", "CONSULTATION"),
    GrantView("fr-s1", "FACTURES_RECUES", "MODIFICATION", "S1"),
    GrantView("fr-s2", "FACTURES_RECUES", "CONSULTATION", "S2"),
    GrantView("fe", "FACTURES_EMISES", "MODIFICATION"),
]


def test_a_structure_request_goes_to_the_gp_and_structure_level_organisation_modifiers():
    assert gestionnaires("gp", GRANTS, None) == {"gp", "orga"}


def test_a_service_request_also_goes_to_that_service_s_organisation_modifiers():
    assert gestionnaires("gp", GRANTS, "S1") == {"gp", "orga", "orga-s1"}


def test_without_a_gp_only_grant_holders_are_gestionnaires():
    assert gestionnaires(None, GRANTS, "S2") == {"orga", "orga-s2"}


def test_invoice_readers_hold_factures_recues_on_the_structure_or_the_invoice_s_service():
    assert invoice_readers(GRANTS, "S1") == {"fr", "fr-s1"}
    assert invoice_readers(GRANTS, None) == {"fr"}
    assert invoice_readers(GRANTS, "S9") == {"fr"}


def test_revoked_grants_no_longer_count():
    grants = live_grants({
        "g1": {"userId": "a", "application": "FACTURES_RECUES", "mode": "CONSULTATION"},
        "g2": {"userId": "b", "application": "FACTURES_RECUES", "mode": "CONSULTATION",
               "revoked": True},
    })
    assert invoice_readers(grants, None) == {"a"}


def test_partner_users_are_the_attached_ones_and_the_gp():
    members = {
        "r1": {"userId": "u1", "active": True},
        "r2": {"userId": "u2", "active": False, "codeService": "S1"},
        "r3": {"userId": "u3", "active": True, "codeService": "S1"},
    }
    assert attached_users("gp", members) == {"gp", "u1", "u3"}
    assert attached_users(None, {}) == set()
