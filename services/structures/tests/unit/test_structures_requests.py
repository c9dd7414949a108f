from datetime import UTC, date, datetime

import pytest

from chorale_structures.domain.errors import DomainError, ErrorCode
from chorale_structures.domain.requests import (
    StatutDemande,
    TypeDemande,
    accept,
    refuse,
    structure_from_request,
    submit_creation_request,
    submit_deactivation_request,
)
from chorale_structures.domain.structures import deactivate, new_public_structure

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
LATER = datetime(2025, 3, 2, 14, 0, tzinfo=UTC)
PROPOSED = {
    "identifiant": "217 500 016 00019",
    "raisonSociale": "VILLE DE PARIS",
    "numeroEJDoitEtreRenseigne": True,
}


def _creation():
    return submit_creation_request(
        "dem-1", PROPOSED, requested_by="user-1", now=NOW, comment="Merci"
    )


def _error(fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    return info.value


def test_creation_request_is_pending_and_announced():
    request, [event] = _creation()
    assert request.statut is StatutDemande.EN_ATTENTE and not request.decided
    assert request.type is TypeDemande.CREATION_STRUCTURE_PUBLIQUE
    assert request.identifiant == "21750001600019"
    assert request.structureProposee.parametres.numeroEJDoitEtreRenseigne is True
    assert event.event_type == "structure.request_submitted"
    assert (event.requestId, event.kind, event.requestedBy) == (
        "dem-1",
        "CREATION_STRUCTURE_PUBLIQUE",
        "user-1",
    )


def test_creation_request_validates_the_proposed_structure_up_front():
    err = _error(
        submit_creation_request,
        "d",
        {**PROPOSED, "identifiant": "21750001600018"},
        requested_by="u",
        now=NOW,
    )
    assert err.code is ErrorCode.SIRET_INVALID
    err = _error(
        submit_creation_request,
        "d",
        {**PROPOSED, "gestionNumeroEJOuCodeService": True},
        requested_by="u",
        now=NOW,
    )
    assert err.code is ErrorCode.PARAMETERS_INCOHERENT


def test_accept_records_the_decision():
    request, _ = _creation()
    accepted, [event] = accept(request, operator_id="op-1", now=LATER, comment="OK")
    assert accepted.statut is StatutDemande.ACCEPTEE
    assert (accepted.decideur, accepted.dateDecision, accepted.commentaireOperateur) == (
        "op-1",
        LATER,
        "OK",
    )
    assert request.statut is StatutDemande.EN_ATTENTE  # immutable
    assert event.event_type == "structure.request_decided"
    assert (event.decision, event.decidedBy, event.commentaire) == ("ACCEPTEE", "op-1", "OK")


def test_refusal_needs_a_reason():
    request, _ = _creation()
    for comment in ("", "   "):
        err = _error(refuse, request, operator_id="op", now=LATER, comment=comment)
        assert err.code is ErrorCode.VALIDATION_FAILED
        assert "commentaireOperateur" in err.details["fields"]
    refused, [event] = refuse(request, operator_id="op", now=LATER, comment=" SIRET inconnu ")
    assert refused.statut is StatutDemande.REFUSEE
    assert refused.commentaireOperateur == "SIRET inconnu"
    assert event.decision == "REFUSEE"


@pytest.mark.parametrize("first", ["accept", "refuse"])
@pytest.mark.parametrize("second", ["accept", "refuse"])
def test_a_request_is_decided_once(first, second):
    request, _ = _creation()
    decide = {
        "accept": lambda r: accept(r, operator_id="op", now=LATER),
        "refuse": lambda r: refuse(r, operator_id="op", now=LATER, comment="non"),
    }
    decided, _ = decide[first](request)
    err = _error(decide[second], decided)
    assert err.code is ErrorCode.REQUEST_ALREADY_DECIDED
    assert err.details["statut"] == decided.statut.value


def test_accepted_creation_gives_the_public_structure_with_factures_publiques():
    request, _ = _creation()
    with pytest.raises(DomainError):
        structure_from_request(request, today=date(2025, 3, 2))  # not accepted yet
    accepted, _ = accept(request, operator_id="op", now=LATER)
    created = structure_from_request(accepted, today=date(2025, 3, 2))
    assert created.structure == request.structureProposee
    assert created.reserved_service.dateDebutActivation == date(2025, 3, 2)
    assert created.events[0].origin == "REQUEST" and created.events[0].createdBy == "user-1"


def test_deactivation_request_needs_an_active_structure():
    structure = new_public_structure(PROPOSED, today=date(2025, 1, 1)).structure
    request, [event] = submit_deactivation_request(
        "dem-2", structure, requested_by="gp", now=NOW, comment="Fusion de communes"
    )
    assert request.type is TypeDemande.DESACTIVATION_STRUCTURE
    assert event.kind == "DESACTIVATION_STRUCTURE"
    inactive, _ = deactivate(structure)
    err = _error(submit_deactivation_request, "dem-3", inactive, requested_by="gp", now=NOW)
    assert err.code is ErrorCode.STRUCTURE_INACTIVE
