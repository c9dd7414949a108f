"""An invoice as the recipient and the supplier follow it: the fields the intake extracted, its
current status, its version (one per change, for compare-and-set) and its history. Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chorale_invoices.domain.statuses import (
    MOTIF_LABELS,
    STATUS_LABELS,
    Action,
    Actor,
    Status,
    allowed_actions,
    supplier_view,
    transition,
)

_MODEL = ConfigDict(extra="ignore", frozen=True)


class PieceJointe(BaseModel):
    """An attachment the supplier added when completing (bytes stored apart, by id)."""

    model_config = _MODEL

    pieceId: str
    nom: str
    typeContenu: str
    tailleOctets: int
    empreinteSha256: str


class Etape(BaseModel):
    """One status change: who, when, why."""

    model_config = _MODEL

    statut: Status
    date: datetime
    typeAuteur: Actor
    auteur: str | None = None  # user id (None for the platform)
    motif: str | None = None
    commentaire: str | None = None
    codeService: str | None = None  # re-addressing: the new routing
    numeroEngagement: str | None = None
    piecesJointes: tuple[PieceJointe, ...] = ()

    def public(self) -> dict[str, Any]:
        body = self.model_dump(mode="json", exclude_none=True)
        body["libelleStatut"] = STATUS_LABELS[self.statut]
        if self.motif:
            body["libelleMotif"] = MOTIF_LABELS.get(self.motif, self.motif)
        return body


class Invoice(BaseModel):
    model_config = _MODEL

    invoiceId: str
    numeroFluxDepot: str
    numeroFacture: str
    typeFacture: str | None = None
    dateFacture: str  # ISO date
    dateDepot: str  # ISO date
    destinataire: str
    codeService: str | None = None
    numeroEngagement: str | None = None
    fournisseur: str
    raisonSocialeFournisseur: str | None = None
    montantHT: str | None = None
    montantTVA: str | None = None
    montantTTC: str | None = None
    devise: str | None = None
    technicalAccountId: str | None = None
    canal: str | None = None
    statut: Status
    dateStatut: datetime
    version: int = 1
    historique: tuple[Etape, ...] = Field(default=())

    def statuses(self) -> list[Status]:
        return [step.statut for step in self.historique]

    def act(self, action: Action, actor: Actor, *, by: str, at: datetime,
            motif: str | None = None, comment: str | None = None,
            code_service: str | None = None, engagement: str | None = None,
            pieces: tuple[PieceJointe, ...] = ()) -> Invoice:
        """This invoice after `action`, one version later, or the coded refusal."""
        target = transition(self.statut, action, actor, motif, comment)
        step = Etape(statut=target, date=at, typeAuteur=actor, auteur=by, motif=motif,
                     commentaire=comment or None, piecesJointes=pieces,
                     codeService=code_service if action is Action.READRESSER else None,
                     numeroEngagement=engagement if action is Action.READRESSER else None)
        update: dict[str, Any] = {"statut": target, "dateStatut": at, "version": self.version + 1,
                                  "historique": (*self.historique, step)}
        if action is Action.READRESSER:
            update.update(codeService=code_service, numeroEngagement=engagement)
        return self.model_copy(update=update)

    # -- views ----------------------------------------------------------------------------
    def for_recipient(self) -> dict[str, Any]:
        body = self.model_dump(mode="json", exclude={"historique"})
        body["libelleStatut"] = STATUS_LABELS[self.statut]
        body["historique"] = [s.public() for s in self.historique]
        body["actionsPossibles"] = [a.value for a in allowed_actions(self.statut, Actor.RECIPIENT)]
        return body

    def supplier_history(self, hide_payment: bool) -> list[Etape]:
        return [s for s in self.historique
                if not (s.statut is Status.MISE_EN_PAIEMENT and hide_payment)]

    def for_supplier(self, hide_payment: bool) -> dict[str, Any]:
        status = supplier_view(self.statuses(), hide_payment)
        body = self.model_dump(mode="json", exclude={"historique", "technicalAccountId"})
        body["statut"] = status.value
        body["libelleStatut"] = STATUS_LABELS[status]
        body["historique"] = [s.public() for s in self.supplier_history(hide_payment)]
        if status is not self.statut:  # hidden payment: the date of what it sees
            body["dateStatut"] = self.supplier_history(hide_payment)[-1].date.isoformat()
        body["actionsPossibles"] = [a.value for a in allowed_actions(status, Actor.SUPPLIER)]
        return body
