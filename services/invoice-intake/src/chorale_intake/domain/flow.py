"""A deposited flow as the intake records it, and as its acknowledgement ("compte rendu", CR)
shows it: the CR is this record minus the internal fields (see docs/compte-rendu.md).

Field names are the Chorus Pro-style JSON names of the CR. Values that BSON cannot hold as is
(dates without time, decimals) are kept as ISO strings, so a record round-trips through the
database unchanged.
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, computed_field

from chorale_contracts import REGISTRY
from chorale_contracts.events.common import TERMINAL_FLOW_STATUSES, FlowStatus, Syntax
from chorale_intake.domain.errors import IntakeError

# PORTAIL: a supplier's user deposited the file (or entered the invoice) in the portal.
Channel = Literal["EDI", "API", "PORTAIL"]

STATUS_LABELS: dict[FlowStatus, str] = {
    FlowStatus.IN_RECU: "Reçu",
    FlowStatus.IN_EN_ATTENTE_TRAITEMENT: "En attente de traitement",
    FlowStatus.IN_EN_COURS_TRAITEMENT: "En cours de traitement",
    FlowStatus.IN_INTEGRE: "Intégré",
    FlowStatus.IN_REJETE: "Rejeté",
    FlowStatus.IN_INCIDENTE: "En incident (erreur technique)",
}

_MODEL = ConfigDict(extra="ignore", frozen=True)


class ErreurTechnique(BaseModel):
    """A flow-level error (`listeErreurTechnique`): the whole file is refused, or a technical
    incident stopped its processing."""

    model_config = _MODEL

    code: str
    message: str
    ligne: int | None = None
    colonne: int | None = None
    chemin: str | None = None
    valeur: str | None = None
    regle: str | None = None  # BUSINESS_RULE: rule id (BR-CO-10, BR-FR-05_BT-22_PMT…)
    gravite: str | None = None  # BUSINESS_RULE: "fatal" or "warning"

    @classmethod
    def of(cls, error: IntakeError, **extra: Any) -> Any:
        return cls(
            code=error.code.value,
            message=error.message,
            ligne=error.line,
            colonne=error.column,
            chemin=error.path,
            valeur=error.value,
            regle=error.rule,
            gravite=error.flag,
            **extra,
        )


class ErreurDP(ErreurTechnique):
    """An invoice-level error (`listeErreurDP`), with who the invoice is from and to."""

    numeroFacture: str | None = None
    identifiantFournisseur: str | None = None
    identifiantDestinataire: str | None = None
    codeService: str | None = None


class Etape(BaseModel):
    model_config = _MODEL

    statut: FlowStatus
    date: datetime


class FactureIntegree(BaseModel):
    """The invoice of an integrated flow, as made available to its recipient."""

    model_config = _MODEL

    invoiceId: str
    statut: Literal["DEPOSEE", "MISE_A_DISPOSITION"] = "MISE_A_DISPOSITION"
    numeroFacture: str
    typeFacture: str | None = None
    dateFacture: str  # ISO date
    fournisseur: str
    raisonSocialeFournisseur: str | None = None
    destinataire: str
    codeService: str | None = None
    numeroEngagement: str | None = None
    montantHT: str | None = None
    montantTVA: str | None = None
    montantTTC: str | None = None
    devise: str | None = None


class Flow(BaseModel):
    """One flow, in any status. `events` (the flow's outbox) and the fields after it are
    internal: they never appear in a CR."""

    model_config = _MODEL

    numeroFluxDepot: str
    canal: Channel
    technicalAccountId: str  # empty for a PORTAIL flow: a person deposited it
    structurePartenaire: str
    deposant: str | None = None  # PORTAIL: the user id of the person who deposited it
    nomFichier: str
    syntaxeFluxDeclaree: str | None = None
    syntaxeFlux: Syntax | None = None
    profilFacturX: str | None = None  # IN_DP_E2_CII_FACTURX: MINIMUM … EXTENDED, as found
    statut: FlowStatus
    dateDepot: datetime
    dateStatut: datetime
    tentative: int = 1
    historique: tuple[Etape, ...] = ()
    tailleOctets: int
    empreinteSha256: str
    listeErreurTechnique: tuple[ErreurTechnique, ...] = ()
    listeErreurDP: tuple[ErreurDP, ...] = ()
    # Business-rule warnings (EN 16931 warnings, BR-FR in warning mode): they never reject.
    listeAvertissementDP: tuple[ErreurDP, ...] = ()
    factures: tuple[FactureIntegree, ...] = ()
    # -- internal ---------------------------------------------------------------------------
    archive: str  # path of the raw bytes, relative to the archive folder
    correlationId: str
    owner: str = ""  # instance that received (or took over) the flow
    recoveries: int = 0  # restarts survived unfinished
    cleDoublon: str | None = None  # duplicate key claimed by this flow's invoice
    etapesAnnoncees: int = 0  # last history steps this record announces (its outbox)
    events: tuple[dict[str, Any], ...] = ()  # those events, derived from the record

    @property
    def number(self) -> str:
        return self.numeroFluxDepot

    @property
    def terminal(self) -> bool:
        return self.statut in TERMINAL_FLOW_STATUSES

    @computed_field  # type: ignore[prop-decorator]
    @property
    def libelleStatut(self) -> str:
        return STATUS_LABELS[self.statut]

    def to_document(self, key: str | None = None) -> dict[str, Any]:
        """The stored form, `_id` = `key` (default: the flow number): the fields operators
        filter on, then the record as compressed JSON (deflate). FerretDB 1.24 reads whole
        documents for most queries, at a cost that grows with their fields and bytes: one
        opaque binary costs little. The events are not stored: they derive from the record
        (`service_layer.events.restore_events`)."""
        return {
            "_id": key or self.numeroFluxDepot,
            "numeroFluxDepot": self.numeroFluxDepot,
            "canal": self.canal,
            "technicalAccountId": self.technicalAccountId,
            "structurePartenaire": self.structurePartenaire,
            "statut": self.statut.value,
            "dateDepot": self.dateDepot,
            "tentative": self.tentative,
            "corps": zlib.compress(self.model_dump_json(exclude=_NOT_STORED).encode(), 1),
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Flow:
        """The record, without its events (see `to_document`), except in documents earlier
        versions wrote: their stored envelopes are kept as they were published."""
        flow = cls.model_validate_json(zlib.decompress(doc["corps"]))
        lines = zlib.decompress(doc["evenements"]).decode() if doc.get("evenements") else ""
        if not lines:
            return flow
        return flow.model_copy(update={"events": tuple(map(stored_entry, lines.split("\n")))})

    def compte_rendu(self) -> dict[str, Any]:
        """The CR: what the partner reads in out/ and from GET /v1/flows/{numero}."""
        return self.model_dump(mode="json", exclude=INTERNAL)

    def compte_rendu_json(self) -> bytes:
        """The CR file's content (serialised without going through Python objects)."""
        return self.model_dump_json(exclude=INTERNAL, indent=2).encode()

    def summary(self) -> dict[str, Any]:
        """One row of the operators' list."""
        row = self.model_dump(
            mode="json",
            include={
                "numeroFluxDepot", "canal", "technicalAccountId", "structurePartenaire",
                "deposant", "nomFichier", "syntaxeFlux", "statut", "dateDepot", "dateStatut",
                "tentative",
            },
        )
        row["codesErreur"] = sorted(
            {e.code for e in (*self.listeErreurTechnique, *self.listeErreurDP)}
        )
        return row


def stored_entry(value: str) -> dict[str, Any]:
    """The outbox entry of one envelope stored by an earlier version (as
    `chorale_runtime.outbox.outbox_entry`)."""
    envelope = json.loads(value)
    return {
        "event_id": envelope["event_id"],
        "topic": str(REGISTRY.payload_class(envelope["event_type"]).topic),
        "key": envelope["key"],
        "value": value,
        "event_type": envelope["event_type"],
        "correlation_id": envelope["correlation_id"],
    }


INTERNAL = {"archive", "correlationId", "owner", "recoveries", "cleDoublon", "etapesAnnoncees",
            "events"}
_NOT_STORED = {"events", "libelleStatut"}
