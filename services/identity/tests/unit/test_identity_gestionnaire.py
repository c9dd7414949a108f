from datetime import timedelta

import pytest

from chorale_identity.domain import events
from chorale_identity.domain import gestionnaire as g
from chorale_identity.domain import rattachements as r
from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.domain.gestionnaire import GpOrigin, StructureType

SIRET = "13000000000006"


def code_of(action):
    with pytest.raises(DomainError) as caught:
        action()
    return caught.value.code


def attached(user, now, service=None, structure=SIRET):
    return r.attach_directly(
        user_id=user,
        identifiant_structure=structure,
        attached_by="gp",
        now=now,
        existing=(),
        code_service=service,
    ).state


@pytest.fixture
def gp(now):
    return g.creator_becomes_gp(
        identifiant_structure=SIRET,
        type_structure=StructureType.PRIVEE,
        creator_user_id="creator",
        current=None,
        now=now,
    ).state


def test_creator_of_a_private_structure_becomes_gp(now):
    transition = g.creator_becomes_gp(
        identifiant_structure=SIRET,
        type_structure="PRIVEE",
        creator_user_id="creator",
        current=None,
        now=now,
    )
    assert transition.event == events.GESTIONNAIRE_DESIGNATED
    assert transition.state.user_id == "creator"
    assert transition.state.origin is GpOrigin.CREATEUR
    assert transition.state.version == 1


def test_creator_event_redelivered_is_a_no_op(gp, now):
    again = g.creator_becomes_gp(
        identifiant_structure=SIRET,
        type_structure="PRIVEE",
        creator_user_id="creator",
        current=gp,
        now=now,
    )
    assert again.event is None and again.state == gp
    assert (
        code_of(
            lambda: g.creator_becomes_gp(
                identifiant_structure=SIRET,
                type_structure="PRIVEE",
                creator_user_id="other",
                current=gp,
                now=now,
            )
        )
        is ErrorCode.GP_ALREADY_DESIGNATED
    )


def test_creator_rule_is_for_private_structures_only(now):
    assert (
        code_of(
            lambda: g.creator_becomes_gp(
                identifiant_structure=SIRET,
                type_structure="PUBLIQUE",
                creator_user_id="c",
                current=None,
                now=now,
            )
        )
        is ErrorCode.STRUCTURE_NOT_PRIVATE
    )


def designate(now, roles=("operator",), current=None, kind="PUBLIQUE", **kwargs):
    return g.designate_by_operator(
        identifiant_structure=SIRET,
        type_structure=kind,
        user_id=kwargs.pop("user_id", "agent"),
        operator_id="op",
        operator_roles=roles,
        current=current,
        now=now,
        **kwargs,
    )


def test_operator_designates_the_gp_of_a_public_structure(now):
    transition = designate(now)
    assert transition.event == events.GESTIONNAIRE_DESIGNATED
    assert transition.details == {"previousUserId": None, "designatedBy": "op"}
    assert (transition.state.user_id, transition.state.origin) == ("agent", GpOrigin.OPERATEUR)


def test_designation_rules(now):
    assert code_of(lambda: designate(now, roles=())) is ErrorCode.FORBIDDEN
    assert code_of(lambda: designate(now, kind="PRIVEE")) is ErrorCode.STRUCTURE_NOT_PUBLIC
    assert code_of(lambda: designate(now, target_active=False)) is ErrorCode.GP_TARGET_INACTIVE
    first = designate(now).state
    assert designate(now, current=first).event is None
    assert (
        code_of(lambda: designate(now, current=first, user_id="other"))
        is ErrorCode.GP_ALREADY_DESIGNATED
    )
    replaced = designate(now, current=first, user_id="other", replace=True)
    assert replaced.details["previousUserId"] == "agent"
    assert replaced.state.version == 2


def test_only_the_gp_transfers(gp, now):
    target = [attached("agent", now)]
    assert (
        code_of(
            lambda: g.transfer_gp(
                gp, by_user_id="agent", to_user_id="agent", target_rattachements=target, now=now
            )
        )
        is ErrorCode.NOT_GESTIONNAIRE_PRINCIPAL
    )
    assert (
        code_of(
            lambda: g.transfer_gp(
                gp, by_user_id="operator", to_user_id="agent", target_rattachements=target, now=now
            )
        )
        is ErrorCode.NOT_GESTIONNAIRE_PRINCIPAL
    )


def test_transfer_to_an_attached_user(gp, now):
    later = now + timedelta(days=3)
    transition = g.transfer_gp(
        gp,
        by_user_id="creator",
        to_user_id="agent",
        target_rattachements=[attached("agent", now, service="S1")],
        now=later,
    )
    assert transition.event == events.GESTIONNAIRE_TRANSFERRED
    assert transition.details == {"fromUserId": "creator", "toUserId": "agent"}
    new = transition.state
    assert (new.user_id, new.previous_user_id, new.origin) == (
        "agent",
        "creator",
        GpOrigin.TRANSFERT,
    )
    assert (new.since, new.version) == (later, 2)
    # The former GP has lost the power to transfer.
    assert (
        code_of(
            lambda: g.transfer_gp(
                new, by_user_id="creator", to_user_id="creator", target_rattachements=[], now=later
            )
        )
        is ErrorCode.NOT_GESTIONNAIRE_PRINCIPAL
    )


def test_target_must_hold_a_valid_rattachement_to_that_structure(gp, now):
    pending = r.request_rattachement(
        user_id="agent", identifiant_structure=SIRET, now=now, existing=()
    ).state
    refused = r.refuse(pending, decided_by="creator", commentaire="non", now=now).state
    detached = r.detach(attached("agent", now), by="agent", now=now).state
    elsewhere = attached("agent", now, structure="13000000000014")
    for rattachements in ([], [pending], [refused], [detached], [elsewhere]):
        assert (
            code_of(
                lambda rs=rattachements: g.transfer_gp(
                    gp, by_user_id="creator", to_user_id="agent", target_rattachements=rs, now=now
                )
            )
            is ErrorCode.GP_TARGET_NOT_ATTACHED
        )


def test_transfer_to_self_or_to_an_inactive_user(gp, now):
    assert (
        code_of(
            lambda: g.transfer_gp(
                gp,
                by_user_id="creator",
                to_user_id="creator",
                target_rattachements=[attached("creator", now)],
                now=now,
            )
        )
        is ErrorCode.GP_SAME_USER
    )
    assert (
        code_of(
            lambda: g.transfer_gp(
                gp,
                by_user_id="creator",
                to_user_id="agent",
                target_rattachements=[attached("agent", now)],
                now=now,
                target_active=False,
            )
        )
        is ErrorCode.GP_TARGET_INACTIVE
    )


def test_gp_must_transfer_before_leaving(gp, now):
    own = attached("creator", now)
    assert code_of(lambda: g.ensure_can_detach(own, gp, [own])) is ErrorCode.GP_MUST_TRANSFER_FIRST
    service_level = attached("creator", now, service="S1")
    g.ensure_can_detach(own, gp, [own, service_level])  # still attached through a service
    g.ensure_can_detach(attached("agent", now), gp, [])  # not the GP
    g.ensure_can_detach(own, None, [own])  # no GP recorded
