"""A grant's life (give, change, take back) and its events; the catalogue."""

import pytest

from chorale_contracts.events.common import APPLICATION_LABELS, Application, Mode
from chorale_habilitations.domain.catalogue import Profile, catalogue, rank
from chorale_habilitations.domain.grants import ChangeKind, GrantKey, give, take_back

FR = Application.FACTURES_RECUES
KEY = GrantKey("alice", "S1", None, FR)


def test_the_grant_id_is_derived_from_its_identity_only():
    assert KEY.grant_id == GrantKey("alice", "S1", None, FR).grant_id
    others = {GrantKey("bob", "S1", None, FR), GrantKey("alice", "S2", None, FR),
              GrantKey("alice", "S1", "SVC", FR), KEY.at(Application.ENGAGEMENTS)}
    assert KEY.grant_id not in {k.grant_id for k in others}
    assert len({k.grant_id for k in others}) == 4
    # no ambiguity from concatenation
    assert GrantKey("a", "bS", None, FR).grant_id != GrantKey("ab", "S", None, FR).grant_id


def test_give_change_revoke_and_give_again_continue_one_version_sequence():
    granted = give(None, KEY, Mode.CONSULTATION, "DEFAULT", "gp")
    assert granted.kind is ChangeKind.GRANTED and granted.after.version == 1
    assert give(granted.after, KEY, Mode.CONSULTATION, "MANUAL", "gp") is None
    changed = give(granted.after, KEY, Mode.MODIFICATION, "MANUAL", "gp")
    assert changed.kind is ChangeKind.CHANGED and changed.after.version == 2
    payload = changed.payload()
    assert payload.event_type == "habilitation.changed"
    assert (payload.previousMode, payload.mode, payload.version) == (
        Mode.CONSULTATION, Mode.MODIFICATION, 2)
    revoked = take_back(changed.after, "MANUAL", "gp")
    assert revoked.kind is ChangeKind.REVOKED and not revoked.after.active
    assert revoked.payload().event_type == "habilitation.revoked"
    assert take_back(revoked.after, "MANUAL", "gp") is None
    again = give(revoked.after, KEY, Mode.CONSULTATION, "MANUAL", "gp")
    assert again.kind is ChangeKind.GRANTED and again.after.version == 4
    p = again.payload()
    assert (p.grantId, p.userId, p.structure, p.codeService, p.application, p.reason,
            p.actor) == (KEY.grant_id, "alice", "S1", None, FR, "MANUAL", "gp")


def test_catalogue_lists_the_twelve_applications_with_french_profiles():
    entries = catalogue()
    assert [e["application"] for e in entries] == [a.value for a in Application]
    assert len(entries) == 12
    assert entries[4]["libelle"] == "Factures reçues"
    assert [p["libelle"] for p in entries[4]["profils"]] == [
        "Factures reçues consultation", "Factures reçues modification"]
    assert all(e["libelle"] == APPLICATION_LABELS[Application(e["application"])]
               for e in entries)
    assert Profile(Application.ORGANISATION, Mode.MODIFICATION).libelle == \
        "Organisation modification"


@pytest.mark.parametrize(("a", "b"), [(None, Mode.CONSULTATION),
                                      (Mode.CONSULTATION, Mode.MODIFICATION)])
def test_modes_are_ordered(a, b):
    assert rank(a) < rank(b)
