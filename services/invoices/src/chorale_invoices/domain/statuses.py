"""The processing statuses of an invoice at its recipient, who may move it where, and what the
supplier is told (DESIGN.md "Invoice lifecycle"). Pure: no I/O.

Every change is an *action* taken by an *actor* (the recipient's agent or the supplier); the
transition table below is the whole rule: an action not allowed from the current status is
refused with `TRANSITION_NOT_ALLOWED` (409).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chorale_contracts.events.invoice_status import InvoiceStatus
from chorale_invoices.domain.errors import InvoiceError

# The vocabulary is the contract's (`chorale.invoice-status.v1`): one list for the service
# and its consumers.
Status = InvoiceStatus

STATUS_LABELS: dict[Status, str] = {
    Status.DEPOSEE: "Déposée",
    Status.MISE_A_DISPOSITION: "Mise à disposition",
    Status.PRISE_EN_CHARGE: "Prise en charge",
    Status.SERVICE_FAIT: "Service fait",
    Status.MANDATEE: "Mandatée",
    Status.SUSPENDUE: "Suspendue",
    Status.COMPLETEE: "Complétée",
    Status.A_RECYCLER: "À recycler",
    Status.REJETEE: "Rejetée",
    Status.MISE_EN_PAIEMENT: "Mise en paiement",
}

# AFNOR XP Z12-012 (CDAR D22B) status code of each status (MDT-105).
CDAR_CODES: dict[Status, str] = {
    Status.DEPOSEE: "202",
    Status.MISE_A_DISPOSITION: "203",
    Status.PRISE_EN_CHARGE: "204",
    Status.SERVICE_FAIT: "204",
    Status.MANDATEE: "204",
    Status.SUSPENDUE: "208",
    Status.COMPLETEE: "209",
    Status.A_RECYCLER: "208",
    Status.REJETEE: "210",
    Status.MISE_EN_PAIEMENT: "211",
}
CDAR_LABELS: dict[str, str] = {
    "202": "Reçue", "203": "Mise à disposition", "204": "Prise en charge", "208": "Suspendue",
    "209": "Complétée", "210": "Refusée", "211": "Paiement transmis", "213": "Rejetée",
}

FINAL: frozenset[Status] = frozenset({Status.REJETEE, Status.MISE_EN_PAIEMENT})


class Actor(StrEnum):
    RECIPIENT = "DESTINATAIRE"  # an agent of the recipient (Factures reçues, modification)
    SUPPLIER = "FOURNISSEUR"  # a user of the supplier (Factures émises, modification)
    PLATFORM = "PLATEFORME"  # the intake (deposit, mise à disposition)


class Action(StrEnum):
    PRENDRE_EN_CHARGE = "prise-en-charge"
    SERVICE_FAIT = "service-fait"
    MANDATER = "mandatee"
    SUSPENDRE = "suspendre"
    A_RECYCLER = "a-recycler"
    REJETER = "rejeter"
    METTRE_EN_PAIEMENT = "mise-en-paiement"
    COMPLETER = "completer"
    READRESSER = "readresser"


@dataclass(frozen=True)
class Transition:
    action: Action
    actor: Actor
    sources: frozenset[Status]
    target: Status
    motif_required: bool = False


def _t(action: Action, actor: Actor, sources: set[Status], target: Status,
       motif: bool = False) -> Transition:
    return Transition(action, actor, frozenset(sources), target, motif)


S = Status
# The whole table. After a completion the recipient resumes where processing can resume; a
# suspended invoice may still be rejected (its supplier never completes it); once mandated,
# only the payment remains.
TRANSITIONS: dict[Action, Transition] = {t.action: t for t in (
    _t(Action.PRENDRE_EN_CHARGE, Actor.RECIPIENT, {S.MISE_A_DISPOSITION, S.COMPLETEE},
       S.PRISE_EN_CHARGE),
    _t(Action.SERVICE_FAIT, Actor.RECIPIENT, {S.PRISE_EN_CHARGE, S.COMPLETEE}, S.SERVICE_FAIT),
    _t(Action.MANDATER, Actor.RECIPIENT, {S.SERVICE_FAIT}, S.MANDATEE),
    _t(Action.SUSPENDRE, Actor.RECIPIENT,
       {S.MISE_A_DISPOSITION, S.PRISE_EN_CHARGE, S.SERVICE_FAIT, S.COMPLETEE}, S.SUSPENDUE,
       motif=True),
    _t(Action.A_RECYCLER, Actor.RECIPIENT, {S.MISE_A_DISPOSITION, S.PRISE_EN_CHARGE},
       S.A_RECYCLER, motif=True),
    _t(Action.REJETER, Actor.RECIPIENT,
       {S.MISE_A_DISPOSITION, S.PRISE_EN_CHARGE, S.SERVICE_FAIT, S.SUSPENDUE, S.COMPLETEE},
       S.REJETEE, motif=True),
    _t(Action.METTRE_EN_PAIEMENT, Actor.RECIPIENT, {S.MANDATEE}, S.MISE_EN_PAIEMENT),
    _t(Action.COMPLETER, Actor.SUPPLIER, {S.SUSPENDUE}, S.COMPLETEE),
    _t(Action.READRESSER, Actor.SUPPLIER, {S.A_RECYCLER}, S.MISE_A_DISPOSITION),
)}

# CDAR reason codes (MDT-113, BR-FR-CDV-CL-09) each motif-carrying action accepts, with the
# label people read. Suspension: what the supplier can complete; à recycler: the routing (code
# service, engagement) the supplier can correct; rejection: the 210 list for a non-PPF sender.
MOTIF_LABELS: dict[str, str] = {
    "JUSTIF_ABS": "Justificatif absent ou insuffisant",
    "COORD_BANC_ERR": "Coordonnées bancaires erronées",
    "CMD_ERR": "Numéro de commande (engagement) erroné ou absent",
    "SIRET_ERR": "SIRET erroné ou absent",
    "REF_CT_ABSENT": "Référence du contrat absente",
    "REF_ERR": "Référence erronée",
    "CODE_ROUTAGE_ERR": "Code service (routage) erroné ou absent",
    "TX_TVA_ERR": "Taux de TVA erroné",
    "MONTANTTOTAL_ERR": "Montant total erroné",
    "CALCUL_ERR": "Erreur de calcul",
    "NON_CONFORME": "Facture non conforme",
    "DOUBLON": "Facture en doublon",
    "DEST_ERR": "Destinataire erroné",
    "TRANSAC_INC": "Transaction inconnue",
    "EMMET_INC": "Émetteur inconnu",
    "CONTRAT_TERM": "Contrat terminé",
    "DOUBLE_FACT": "Double facturation",
    "ADR_ERR": "Adresse de facturation erronée",
}
MOTIFS: dict[Action, tuple[str, ...]] = {
    Action.SUSPENDRE: ("JUSTIF_ABS", "COORD_BANC_ERR", "CMD_ERR", "SIRET_ERR", "REF_CT_ABSENT",
                       "REF_ERR"),
    Action.A_RECYCLER: ("CODE_ROUTAGE_ERR", "CMD_ERR", "REF_CT_ABSENT"),
    Action.REJETER: ("TX_TVA_ERR", "MONTANTTOTAL_ERR", "CALCUL_ERR", "NON_CONFORME", "DOUBLON",
                     "DEST_ERR", "TRANSAC_INC", "EMMET_INC", "CONTRAT_TERM", "DOUBLE_FACT",
                     "CMD_ERR", "ADR_ERR", "REF_CT_ABSENT"),
}

COMMENT_MAX = 1000


def transition(current: Status, action: Action, actor: Actor, motif: str | None = None,
               comment: str | None = None) -> Status:
    """The status `action` by `actor` leads to from `current`, or the coded refusal."""
    rule = TRANSITIONS[action]
    if actor is not rule.actor:
        who = "au destinataire" if rule.actor is Actor.RECIPIENT else "au fournisseur"
        raise InvoiceError("ACTION_NOT_ALLOWED_FOR_ACTOR",
                           f"L'action « {action.value} » est réservée {who}.", status=403)
    if current in FINAL:
        raise InvoiceError(
            "INVOICE_STATUS_FINAL",
            f"La facture est au statut final « {STATUS_LABELS[current]} » : plus aucune action "
            "n'est possible.", status=409, details={"statut": current.value})
    if current not in rule.sources:
        allowed = sorted(s.value for s in rule.sources)
        raise InvoiceError(
            "TRANSITION_NOT_ALLOWED",
            f"L'action « {action.value} » n'est pas possible depuis le statut "
            f"« {STATUS_LABELS[current]} ».", status=409,
            details={"statut": current.value, "statutsPermis": allowed})
    check_motif(action, motif)
    if comment is not None and len(comment) > COMMENT_MAX:
        raise InvoiceError("COMMENT_TOO_LONG",
                           f"Le commentaire dépasse {COMMENT_MAX} caractères.")
    return rule.target


def check_motif(action: Action, motif: str | None) -> None:
    rule = TRANSITIONS[action]
    if not rule.motif_required:
        if motif is not None:
            raise InvoiceError("MOTIF_NOT_EXPECTED",
                               f"L'action « {action.value} » ne prend pas de motif.")
        return
    if not motif:
        raise InvoiceError("MOTIF_REQUIRED", f"Un motif est obligatoire pour « {action.value} ».",
                           details={"motifsPermis": list(MOTIFS[action])})
    if motif not in MOTIFS[action]:
        raise InvoiceError("MOTIF_INVALID",
                           f"Le motif « {motif} » n'est pas permis pour « {action.value} ».",
                           details={"motifsPermis": list(MOTIFS[action])})


def allowed_actions(current: Status, actor: Actor) -> list[Action]:
    """What `actor` may do now (the portal shows these buttons only)."""
    return [a for a, t in TRANSITIONS.items() if t.actor is actor and current in t.sources]


def visible_to_supplier(status: Status, hide_payment: bool) -> bool:
    """`MISE_EN_PAIEMENT` is hidden from the supplier when the recipient's parameter
    `statutMiseEnPaiementNestPasRemonte` is true; every other status is shown."""
    return not (status is Status.MISE_EN_PAIEMENT and hide_payment)


def supplier_view(history: list[Status], hide_payment: bool) -> Status:
    """The status the supplier sees: the latest of `history` (oldest first) it may see."""
    for status in reversed(history):
        if visible_to_supplier(status, hide_payment):
            return status
    return history[0]
