"""`chorale.flows.v1` ("Suivi des flux"): every status change of a deposited flow.
Key: `numeroFluxDepot`."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from chorale_contracts.events.common import FlowStatus, Syntax
from chorale_contracts.registry import EventPayload, event
from chorale_contracts.topics import Topic


class FlowError(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    message: str
    level: Literal["FLUX", "FACTURE"]
    ligne: int | None = None
    chemin: str | None = None
    # Business rules (code BUSINESS_RULE): the rule's id (BR-CO-10, BR-FR-05_BT-22_PMT…) and
    # its flag, "fatal" (the invoice is rejected) or "warning" (reported only).
    regle: str | None = None
    gravite: Literal["fatal", "warning"] | None = None


@event
class FlowStatusChanged(EventPayload):
    event_type = "flow.status_changed"
    topic = Topic.FLOWS

    numeroFluxDepot: str
    statut: FlowStatus
    statutPrecedent: FlowStatus | None = None
    canal: Literal["EDI", "API", "PORTAIL"]
    technicalAccountId: str
    structurePartenaire: str
    nomFichier: str
    syntaxeFlux: Syntax | None = None
    profilFacturX: str | None = None  # IN_DP_E2_CII_FACTURX: the profile found (EN 16931…)
    dateDepot: datetime
    destinataire: str | None = None
    codeService: str | None = None
    numeroFacture: str | None = None
    erreurs: list[FlowError] = []
    # Business-rule warnings of the invoice (terminal statuses): they never reject.
    avertissements: list[FlowError] = []
    tentative: int = 0
