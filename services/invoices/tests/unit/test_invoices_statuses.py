"""The whole transition table: every (status, action) pair is either the documented move or a
coded refusal; who may act; motifs; CDAR codes; what the supplier sees."""

from __future__ import annotations

import pytest

from chorale_invoices.domain.errors import InvoiceError
from chorale_invoices.domain.statuses import (
    CDAR_CODES,
    MOTIFS,
    Action,
    Actor,
    Status,
    allowed_actions,
    supplier_view,
    transition,
    visible_to_supplier,
)

S, A = Status, Action
# Expected table, written out independently of the implementation's.
EXPECTED: dict[tuple[Status, Action], Status] = {
    (S.MISE_A_DISPOSITION, A.PRENDRE_EN_CHARGE): S.PRISE_EN_CHARGE,
    (S.COMPLETEE, A.PRENDRE_EN_CHARGE): S.PRISE_EN_CHARGE,
    (S.PRISE_EN_CHARGE, A.SERVICE_FAIT): S.SERVICE_FAIT,
    (S.COMPLETEE, A.SERVICE_FAIT): S.SERVICE_FAIT,
    (S.SERVICE_FAIT, A.MANDATER): S.MANDATEE,
    (S.MISE_A_DISPOSITION, A.SUSPENDRE): S.SUSPENDUE,
    (S.PRISE_EN_CHARGE, A.SUSPENDRE): S.SUSPENDUE,
    (S.SERVICE_FAIT, A.SUSPENDRE): S.SUSPENDUE,
    (S.COMPLETEE, A.SUSPENDRE): S.SUSPENDUE,
    (S.MISE_A_DISPOSITION, A.A_RECYCLER): S.A_RECYCLER,
    (S.PRISE_EN_CHARGE, A.A_RECYCLER): S.A_RECYCLER,
    (S.MISE_A_DISPOSITION, A.REJETER): S.REJETEE,
    (S.PRISE_EN_CHARGE, A.REJETER): S.REJETEE,
    (S.SERVICE_FAIT, A.REJETER): S.REJETEE,
    (S.SUSPENDUE, A.REJETER): S.REJETEE,
    (S.COMPLETEE, A.REJETER): S.REJETEE,
    (S.MANDATEE, A.METTRE_EN_PAIEMENT): S.MISE_EN_PAIEMENT,
    (S.SUSPENDUE, A.COMPLETER): S.COMPLETEE,
    (S.A_RECYCLER, A.READRESSER): S.MISE_A_DISPOSITION,
}
SUPPLIER_ACTIONS = {A.COMPLETER, A.READRESSER}


def _actor(action: Action) -> Actor:
    return Actor.SUPPLIER if action in SUPPLIER_ACTIONS else Actor.RECIPIENT


def _motif(action: Action) -> str | None:
    return MOTIFS[action][0] if action in MOTIFS else None


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", list(Action))
def test_every_pair_of_the_table(status: Status, action: Action) -> None:
    expected = EXPECTED.get((status, action))
    if expected is not None:
        assert transition(status, action, _actor(action), _motif(action)) is expected
        return
    with pytest.raises(InvoiceError) as refused:
        transition(status, action, _actor(action), _motif(action))
    assert refused.value.status == 409
    final = status in (S.REJETEE, S.MISE_EN_PAIEMENT)
    assert refused.value.code == ("INVOICE_STATUS_FINAL" if final else "TRANSITION_NOT_ALLOWED")


@pytest.mark.parametrize("action", list(Action))
def test_only_the_right_party_may_act(action: Action) -> None:
    source = next(s for (s, a) in EXPECTED if a is action)
    wrong = Actor.RECIPIENT if _actor(action) is Actor.SUPPLIER else Actor.SUPPLIER
    with pytest.raises(InvoiceError) as refused:
        transition(source, action, wrong, _motif(action))
    assert (refused.value.code, refused.value.status) == ("ACTION_NOT_ALLOWED_FOR_ACTOR", 403)


@pytest.mark.parametrize("action", [A.SUSPENDRE, A.A_RECYCLER, A.REJETER])
def test_motif_required_and_from_the_cdar_list(action: Action) -> None:
    with pytest.raises(InvoiceError) as missing:
        transition(S.MISE_A_DISPOSITION, action, Actor.RECIPIENT, None)
    assert missing.value.code == "MOTIF_REQUIRED"
    with pytest.raises(InvoiceError) as invalid:
        transition(S.MISE_A_DISPOSITION, action, Actor.RECIPIENT, "PAS_UN_MOTIF")
    assert invalid.value.code == "MOTIF_INVALID"
    for motif in MOTIFS[action]:
        assert transition(S.MISE_A_DISPOSITION, action, Actor.RECIPIENT, motif)


def test_motifs_are_those_br_fr_cdv_cl_09_accepts_for_the_cdar_code() -> None:
    # BR-FR-CDV-CL-09 (XP Z12-012 v1.4): 208 and 210 reason lists (non-PPF sender).
    allowed_208 = {"JUSTIF_ABS", "COORD_BANC_ERR", "CMD_ERR", "SIRET_ERR", "CODE_ROUTAGE_ERR",
                   "REF_CT_ABSENT", "REF_ERR"}
    allowed_210 = {"TX_TVA_ERR", "MONTANTTOTAL_ERR", "CALCUL_ERR", "NON_CONFORME", "DOUBLON",
                   "DEST_ERR", "TRANSAC_INC", "EMMET_INC", "CONTRAT_TERM", "DOUBLE_FACT",
                   "CMD_ERR", "ADR_ERR", "REF_CT_ABSENT"}
    assert set(MOTIFS[A.SUSPENDRE]) <= allowed_208
    assert set(MOTIFS[A.A_RECYCLER]) <= allowed_208
    assert set(MOTIFS[A.REJETER]) == allowed_210


def test_a_motif_is_refused_where_none_is_expected() -> None:
    with pytest.raises(InvoiceError) as refused:
        transition(S.MISE_A_DISPOSITION, A.PRENDRE_EN_CHARGE, Actor.RECIPIENT, "DOUBLON")
    assert refused.value.code == "MOTIF_NOT_EXPECTED"


def test_cdar_code_of_each_status() -> None:
    assert CDAR_CODES == {
        S.DEPOSEE: "202", S.MISE_A_DISPOSITION: "203", S.PRISE_EN_CHARGE: "204",
        S.SERVICE_FAIT: "204", S.MANDATEE: "204", S.SUSPENDUE: "208", S.COMPLETEE: "209",
        S.A_RECYCLER: "208", S.REJETEE: "210", S.MISE_EN_PAIEMENT: "211",
    }


def test_allowed_actions_follow_the_table() -> None:
    for status in Status:
        for actor in Actor:
            expected = {a for (s, a) in EXPECTED if s is status and _actor(a) is actor}
            assert set(allowed_actions(status, actor)) == expected


def test_payment_is_hidden_from_the_supplier_only_when_the_recipient_says_so() -> None:
    history = [S.DEPOSEE, S.MISE_A_DISPOSITION, S.PRISE_EN_CHARGE, S.SERVICE_FAIT, S.MANDATEE,
               S.MISE_EN_PAIEMENT]
    assert supplier_view(history, hide_payment=False) is S.MISE_EN_PAIEMENT
    assert supplier_view(history, hide_payment=True) is S.MANDATEE
    assert not visible_to_supplier(S.MISE_EN_PAIEMENT, True)
    assert all(visible_to_supplier(s, True) for s in Status if s is not S.MISE_EN_PAIEMENT)
    assert all(visible_to_supplier(s, False) for s in Status)
