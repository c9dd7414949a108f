from datetime import timedelta

import pytest

from chorale_identity.domain import events
from chorale_identity.domain import rattachements as r
from chorale_identity.domain.errors import DomainError, ErrorCode
from chorale_identity.domain.rattachements import RattachementOrigin
from chorale_identity.domain.rattachements import RattachementStatus as S

SIRET = "13000000000006"


def request(now, existing=(), user="u1", service=None, comment="Agent comptable"):
    return r.request_rattachement(
        user_id=user,
        identifiant_structure=SIRET,
        now=now,
        existing=existing,
        code_service=service,
        commentaire=comment,
    )


def code_of(action):
    with pytest.raises(DomainError) as caught:
        action()
    return caught.value.code


def test_request_is_pending_with_its_comment(now):
    transition = request(now, comment="  Agent comptable  ")
    assert transition.event == events.RATTACHEMENT_REQUESTED
    ratt = transition.state
    assert ratt.status is S.EN_COURS_DE_VALIDATION
    assert ratt.origin is RattachementOrigin.DEMANDE
    assert (ratt.commentaire, ratt.requested_by, ratt.code_service) == (
        "Agent comptable",
        "u1",
        None,
    )


def test_identifier_is_normalised(now):
    transition = r.request_rattachement(
        user_id="u1",
        identifiant_structure="130 000 000 00006",
        now=now,
        existing=(),
        code_service=" SERV1 ",
    )
    assert transition.state.identifiant_structure == SIRET
    assert transition.state.code_service == "SERV1"


def test_approve_then_detach(now):
    pending = request(now).state
    approved = r.approve(
        pending, decided_by="gp", now=now + timedelta(hours=1), commentaire="Bienvenue"
    )
    assert approved.event == events.RATTACHEMENT_APPROVED
    assert approved.details == {"direct": False}
    assert approved.state.status is S.VALIDEE
    assert (approved.state.decided_by, approved.state.decision_commentaire) == ("gp", "Bienvenue")

    detached = r.detach(approved.state, by="u1", now=now + timedelta(days=1))
    assert detached.event == events.RATTACHEMENT_DETACHED
    assert detached.state.status is S.DESACTIVEE
    assert detached.state.detached_by == "u1"


def test_refuse_requires_a_comment(now):
    pending = request(now).state
    assert (
        code_of(lambda: r.refuse(pending, decided_by="gp", commentaire=" ", now=now))
        is ErrorCode.COMMENT_REQUIRED
    )
    refused = r.refuse(pending, decided_by="gp", commentaire="Inconnu du service", now=now)
    assert refused.event == events.RATTACHEMENT_REFUSED
    assert refused.state.status is S.REFUSEE


def test_deciding_twice_is_refused(now):
    pending = request(now).state
    approved = r.approve(pending, decided_by="gp", now=now).state
    refused = r.refuse(pending, decided_by="gp", commentaire="non", now=now).state
    for decided in (approved, refused):
        assert (
            code_of(lambda d=decided: r.approve(d, decided_by="gp", now=now))
            is ErrorCode.RATTACHEMENT_ALREADY_DECIDED
        )
        assert (
            code_of(lambda d=decided: r.refuse(d, decided_by="gp", commentaire="x", now=now))
            is ErrorCode.RATTACHEMENT_ALREADY_DECIDED
        )


def test_nobody_decides_their_own_request(now):
    pending = request(now).state
    assert code_of(lambda: r.approve(pending, decided_by="u1", now=now)) is ErrorCode.FORBIDDEN


def test_second_live_request_for_the_same_target_is_refused(now):
    first = request(now).state
    assert code_of(lambda: request(now, existing=[first])) is ErrorCode.RATTACHEMENT_EXISTS
    approved = r.approve(first, decided_by="gp", now=now).state
    with pytest.raises(DomainError) as caught:
        request(now, existing=[approved])
    assert caught.value.details == {"rattachementId": first.id, "statut": "VALIDEE"}


def test_other_targets_and_closed_requests_do_not_block(now):
    first = request(now).state
    assert request(now, existing=[first], service="SERV1").state.code_service == "SERV1"
    assert request(now, existing=[first], user="u2").state.user_id == "u2"
    refused = r.refuse(first, decided_by="gp", commentaire="non", now=now).state
    assert request(now, existing=[refused]).state.status is S.EN_COURS_DE_VALIDATION
    approved = r.approve(request(now).state, decided_by="gp", now=now).state
    detached = r.detach(approved, by="u1", now=now).state
    assert request(now, existing=[refused, detached]).event == events.RATTACHEMENT_REQUESTED


def test_direct_attachment_is_valid_at_once(now):
    transition = r.attach_directly(
        user_id="u2",
        identifiant_structure=SIRET,
        attached_by="gp",
        now=now,
        existing=(),
        code_service="SERV1",
    )
    ratt = transition.state
    assert transition.event == events.RATTACHEMENT_APPROVED
    assert transition.details == {"direct": True}
    assert ratt.status is S.VALIDEE and ratt.origin is RattachementOrigin.DIRECT
    assert (ratt.requested_by, ratt.decided_by, ratt.decided_at) == ("gp", "gp", now)


def test_direct_attachment_does_not_swallow_a_pending_request(now):
    pending = request(now, user="u2").state
    assert (
        code_of(
            lambda: r.attach_directly(
                user_id="u2",
                identifiant_structure=SIRET,
                attached_by="gp",
                now=now,
                existing=[pending],
            )
        )
        is ErrorCode.RATTACHEMENT_EXISTS
    )


def test_only_the_user_or_a_gestionnaire_detaches(now):
    approved = r.approve(request(now).state, decided_by="gp", now=now).state
    assert code_of(lambda: r.detach(approved, by="u9", now=now)) is ErrorCode.FORBIDDEN
    by_gp = r.detach(approved, by="gp", now=now, by_gestionnaire=True)
    assert by_gp.state.detached_by == "gp"


def test_only_valid_rattachements_can_be_detached(now):
    pending = request(now).state
    assert code_of(lambda: r.detach(pending, by="u1", now=now)) is ErrorCode.RATTACHEMENT_NOT_ACTIVE
    approved = r.approve(pending, decided_by="gp", now=now).state
    detached = r.detach(approved, by="u1", now=now).state
    assert (
        code_of(lambda: r.detach(detached, by="u1", now=now)) is ErrorCode.RATTACHEMENT_NOT_ACTIVE
    )


def test_is_attached_counts_only_valid_ones_at_any_level(now):
    pending = request(now).state
    assert not r.is_attached("u1", SIRET, [pending])
    service_level = r.approve(request(now, service="SERV1").state, decided_by="gp", now=now).state
    assert r.is_attached("u1", SIRET, [pending, service_level])
    assert not r.is_attached("u1", "13000000000014", [service_level])
    assert not r.is_attached("u2", SIRET, [service_level])


def test_overlong_comment_is_refused(now):
    assert code_of(lambda: request(now, comment="x" * 1001)) is ErrorCode.INPUT_INVALID
