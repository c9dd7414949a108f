"""Rules of « Gérer les habilitations »: attachment, self-elevation, GP's grants; listings."""

import pytest

from chorale_contracts.events.common import Application, Mode
from chorale_habilitations.domain.administration import (
    check_grantable,
    check_not_gestionnaire_grant,
    check_not_self_raise,
)
from chorale_habilitations.domain.attachments import Attachment, AttachmentStatus, Membership
from chorale_habilitations.domain.errors import HabilitationError
from chorale_habilitations.domain.grants import GrantKey
from chorale_habilitations.domain.listing import row
from chorale_habilitations.entrypoints.http_api import as_csv

ORG = Application.ORGANISATION
KEY = GrantKey("alice", "S1", None, ORG)


def code(call) -> str:
    with pytest.raises(HabilitationError) as info:
        call()
    return info.value.code


def test_a_grant_needs_a_live_rattachement_at_its_level_and_an_active_account():
    attached = Membership("alice", (Attachment("r", "S1", "SVC", AttachmentStatus.VALIDEE),))
    check_grantable(attached, GrantKey("alice", "S1", "SVC", ORG))
    assert code(lambda: check_grantable(attached, KEY)) == "USER_NOT_ATTACHED"
    assert code(lambda: check_grantable(Membership("alice"), KEY)) == "USER_NOT_ATTACHED"
    gone = Membership("alice", attached.attachments, deactivated=True)
    assert code(lambda: check_grantable(gone, KEY)) == "USER_DEACTIVATED"


def test_nobody_raises_their_own_grants_but_may_lower_them():
    assert code(lambda: check_not_self_raise("alice", KEY, None, Mode.CONSULTATION)) == \
        "SELF_ELEVATION_FORBIDDEN"
    assert code(lambda: check_not_self_raise("alice", KEY, Mode.CONSULTATION,
                                             Mode.MODIFICATION)) == "SELF_ELEVATION_FORBIDDEN"
    check_not_self_raise("alice", KEY, Mode.MODIFICATION, Mode.CONSULTATION)
    check_not_self_raise("alice", KEY, Mode.MODIFICATION, None)
    check_not_self_raise("bob", KEY, None, Mode.MODIFICATION)


def test_the_gestionnaire_principal_structure_grants_are_not_edited_by_hand():
    assert code(lambda: check_not_gestionnaire_grant(KEY, "alice")) == \
        "GESTIONNAIRE_PRINCIPAL_PROTECTED"
    check_not_gestionnaire_grant(GrantKey("alice", "S1", "SVC", ORG), "alice")
    check_not_gestionnaire_grant(KEY, "bob")
    check_not_gestionnaire_grant(KEY, None)


def test_rows_carry_directory_names_and_the_csv_is_excel_friendly_and_defused():
    doc = {"_id": "hab-1", "userId": "=cmd|x", "structure": "S1", "codeService": "SVC",
           "application": "FACTURES_RECUES", "mode": "MODIFICATION", "reason": "MANUAL",
           "version": 3, "actor": "gp"}
    names = {"S1": {"raisonSociale": "Commune de Test", "services": [
        {"codeService": "SVC", "libelle": "Service achats", "statut": "ACTIF"}]}}
    r = row(doc, names)
    assert (r["raisonSociale"], r["libelleService"], r["statutService"], r["profil"]) == (
        "Commune de Test", "Service achats", "ACTIF", "Factures reçues modification")
    assert row(doc, {})["raisonSociale"] is None
    data = as_csv([r]).decode("utf-8")
    assert data.startswith("\ufeffStructure;Raison sociale;Code service;")
    assert data.endswith("\r\n")
    assert "S1;Commune de Test;SVC;Service achats;'=cmd|x;Factures reçues modification" in data
