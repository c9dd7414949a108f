"""Identity's events → grants: defaults, gestionnaire principal, detachment, deactivation."""

from chorale_contracts.events.common import Application, Mode
from chorale_habilitations.domain import policies
from chorale_habilitations.domain.attachments import (
    Attachment,
    AttachmentStatus,
    Membership,
)
from chorale_habilitations.domain.grants import GrantKey, GrantState, give

V, D = AttachmentStatus.VALIDEE, AttachmentStatus.DESACTIVEE
FR = Application.FACTURES_RECUES


def state(mode=Mode.CONSULTATION, reason="DEFAULT", active=True, service=None, version=1):
    return GrantState(GrantKey("alice", "S1", service, FR), mode, active, reason, "x", version)


def test_defaults_cover_every_application_at_the_attached_level():
    keys = policies.every_application("alice", "S1", "SVC")
    assert {k.application for k in keys} == set(Application)
    assert {(k.structure, k.code_service) for k in keys} == {("S1", "SVC")}


def test_default_profile_grants_consultation_only_where_nothing_is_active():
    key = GrantKey("alice", "S1", None, FR)
    first = policies.default_profile(key, "gp")(None)
    assert (first.after.mode, first.after.reason) == (Mode.CONSULTATION, "DEFAULT")
    assert policies.default_profile(key, "gp")(state(Mode.MODIFICATION, "MANUAL")) is None
    back = policies.default_profile(key, "gp")(state(active=False, version=3))
    assert back.after.active and back.after.version == 4


def test_a_new_gestionnaire_gets_modification_and_keeps_manual_modifications_as_they_are():
    key = GrantKey("alice", "S1", None, FR)
    raised = policies.gestionnaire_profile(key, "op")(state())
    assert (raised.after.mode, raised.after.reason) == (Mode.MODIFICATION, "GESTIONNAIRE_PRINCIPAL")
    assert policies.gestionnaire_profile(key, "op")(state(Mode.MODIFICATION, "MANUAL")) is None
    assert policies.gestionnaire_profile(key, "op")(None).after.mode is Mode.MODIFICATION


def test_a_former_gestionnaire_falls_back_to_consultation_or_loses_the_grant_if_gone():
    key = GrantKey("alice", "S1", None, FR)
    gp_grant = state(Mode.MODIFICATION, "GESTIONNAIRE_PRINCIPAL")
    stays = policies.former_gestionnaire_profile(key, True, "bob")(gp_grant)
    assert (stays.after.mode, stays.after.reason, stays.after.active) == (
        Mode.CONSULTATION, "DEFAULT", True)
    gone = policies.former_gestionnaire_profile(key, False, "bob")(gp_grant)
    assert not gone.after.active and gone.after.reason == "RATTACHEMENT_ENDED"
    manual = state(Mode.MODIFICATION, "MANUAL")
    assert policies.former_gestionnaire_profile(key, True, "bob")(manual) is None
    assert policies.former_gestionnaire_profile(key, True, "bob")(None) is None


def test_a_detachment_ends_the_grants_no_rattachement_backs_any_more():
    membership = Membership("alice", (
        Attachment("r1", "S1", None, D),
        Attachment("r2", "S1", "SVC_A", V),
    ))
    intent = policies.end_if_unbacked(membership, "alice")
    ended = intent(state())
    assert not ended.after.active and ended.after.reason == "RATTACHEMENT_ENDED"
    assert intent(state(service="SVC_A")) is None           # still attached to that service
    assert not intent(state(service="SVC_B")).after.active  # only the structure backed it
    assert policies.end("x")(state(active=False)) is None


def test_what_a_rattachement_backs():
    m = Membership("alice", (Attachment("r1", "S1", None, V), Attachment("r2", "S2", "A", V),
                             Attachment("r3", "S3", None, D)))
    assert m.backs("S1", None) and m.backs("S1", "ANY")
    assert m.backs("S2", "A") and not m.backs("S2", None) and not m.backs("S2", "B")
    assert not m.backs("S3", None) and m.ever_attached("S3") and not m.ever_attached("S4")


def test_give_from_policies_is_the_same_transition():
    key = GrantKey("alice", "S1", None, FR)
    assert policies.default_profile(key, "a")(None) == give(None, key, Mode.CONSULTATION,
                                                           "DEFAULT", "a")
