"""Structure requests an operator decides: creation of a public structure, deactivation.

Accepting changes two documents (the request, then the structure) and there is no
transaction, so the decision is recorded first, with ``effet`` = ``A_APPLIQUER``, and the
effect follows; :meth:`Requests.complete_pending` (at start-up and periodically) finishes any
effect a crash interrupted. Effects are idempotent: the structure created for a request
remembers the request (``idDemandeOrigine``), and deactivating an inactive structure is done.
Before deciding, the effect is tried on the current state, so that the normal refusals
(STRUCTURE_EXISTS, STRUCTURE_INACTIVE...) come back to the operator with nothing written.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from chorale_runtime.errors import ApiError
from chorale_runtime.logging import get_logger
from chorale_structures.adapters.model_store import ModelStore, Versioned
from chorale_structures.adapters.structure_store import StoredStructure, StructureStore
from chorale_structures.domain import DomainError, ErrorCode, StructureRequest, deactivate
from chorale_structures.domain import accept as accept_request
from chorale_structures.domain import refuse as refuse_request
from chorale_structures.domain.errors import field_error
from chorale_structures.domain.requests import (
    TypeDemande,
    structure_from_request,
    submit_creation_request,
    submit_deactivation_request,
)
from chorale_structures.service_layer.context import Actor
from chorale_structures.service_layer.structure_changes import envelopes_for, load
from chorale_structures.service_layer.structures import set_statut

log = get_logger(__name__)
COLLECTION = "requests"
TO_APPLY, APPLIED, IMPOSSIBLE = "A_APPLIQUER", "APPLIQUE", "IMPOSSIBLE"
RequestStore = ModelStore[StructureRequest]


def request_store(db: Any, notify: Any = None) -> RequestStore:
    return ModelStore(
        db, COLLECTION, StructureRequest, "idDemande", notify, extra_fields=("effet", "erreur")
    )


def _not_found(request_id: str) -> ApiError:
    return ApiError("REQUEST_NOT_FOUND", "Demande introuvable.", 404, {"idDemande": request_id})


class Requests:
    def __init__(self, store: RequestStore, structures: StructureStore):
        self.store = store
        self._structures = structures

    async def submit(self, body: Mapping[str, Any], actor: Actor) -> Versioned[StructureRequest]:
        kind, comment = body.get("type"), body.get("commentaire")
        request_id = str(uuid.uuid4())
        if kind == TypeDemande.CREATION_STRUCTURE_PUBLIQUE:
            data = body.get("structure")
            if not isinstance(data, Mapping):
                raise field_error("structure", "objet attendu")
            request, events = submit_creation_request(
                request_id, data, requested_by=actor.subject, now=actor.now, comment=comment
            )
            if await self._structures.get(request.identifiant) is not None:
                raise DomainError(
                    ErrorCode.STRUCTURE_EXISTS, details={"identifiant": request.identifiant}
                )
        elif kind == TypeDemande.DESACTIVATION_STRUCTURE:
            stored = await load(self._structures, str(body.get("identifiant") or ""))
            request, events = submit_deactivation_request(
                request_id, stored.structure, requested_by=actor.subject, now=actor.now,
                comment=comment,
            )
        else:
            raise field_error("type", "CREATION_STRUCTURE_PUBLIQUE ou DESACTIVATION_STRUCTURE")
        await self.store.add(request.identifiant, request, actor.envelopes(events), actor.now,
                             {"effet": None})
        return await self.get(request_id)

    async def get(self, request_id: str) -> Versioned[StructureRequest]:
        found = await self.store.get(request_id)
        if found is None:
            raise _not_found(request_id)
        return found

    async def list_requests(self, statut: str | None = None) -> list[Versioned[StructureRequest]]:
        query = {"statut": statut} if statut else {}
        return await self.store.find(query, (("dateDemande", 1),))

    async def refuse(
        self, request_id: str, comment: str | None, actor: Actor
    ) -> Versioned[StructureRequest]:
        current = await self.get(request_id)
        decided, events = refuse_request(
            current.model, operator_id=str(actor.subject), now=actor.now, comment=comment or ""
        )
        await self._record(current, decided, events, actor, effect=None)
        return await self.get(request_id)

    async def accept(
        self, request_id: str, comment: str | None, actor: Actor
    ) -> Versioned[StructureRequest]:
        current = await self.get(request_id)
        decided, events = accept_request(
            current.model, operator_id=str(actor.subject), now=actor.now, comment=comment
        )
        await self._check_effect(decided)
        await self._record(current, decided, events, actor, effect=TO_APPLY)
        await self._apply(decided, actor)
        return await self.get(request_id)

    async def _record(self, current, decided, events, actor: Actor, effect: str | None) -> None:
        if not await self.store.save(current, decided, actor.envelopes(events), actor.now,
                                     {"effet": effect}):
            latest = await self.get(current.model.idDemande)  # decided meanwhile
            raise DomainError(
                ErrorCode.REQUEST_ALREADY_DECIDED,
                details={"idDemande": latest.model.idDemande, "statut": latest.model.statut},
            )

    async def _check_effect(self, request: StructureRequest) -> None:
        existing = await self._structures.get(request.identifiant)
        if request.type is TypeDemande.CREATION_STRUCTURE_PUBLIQUE:
            if existing is not None:
                raise DomainError(
                    ErrorCode.STRUCTURE_EXISTS, details={"identifiant": request.identifiant}
                )
        elif existing is None:
            raise DomainError(
                ErrorCode.STRUCTURE_NOT_FOUND, details={"identifiant": request.identifiant}
            )
        else:
            deactivate(existing.structure)  # raises STRUCTURE_INACTIVE

    async def _apply(self, request: StructureRequest, actor: Actor) -> None:
        try:
            if request.type is TypeDemande.CREATION_STRUCTURE_PUBLIQUE:
                await self._create(request, actor)
            else:
                await self._deactivate(request, actor)
        except DomainError as error:
            log.error("request_effect_impossible", request=request.idDemande, code=error.code)
            await self.store.set_fields(request.idDemande, {"effet": IMPOSSIBLE,
                                                            "erreur": error.to_dict()})
            return
        await self.store.set_fields(request.idDemande, {"effet": APPLIED})

    async def _create(self, request: StructureRequest, actor: Actor) -> None:
        assert request.dateDecision is not None
        created = structure_from_request(request, today=request.dateDecision.date())
        stored = StoredStructure(
            created.structure,
            {created.reserved_service.codeService: created.reserved_service},
            created_at=actor.now,
            origin_request=request.idDemande,
        )
        try:
            await self._structures.insert(stored, envelopes_for(actor, stored, created.events))
        except DomainError as error:
            existing = await self._structures.get(request.identifiant)
            if existing is None or existing.origin_request != request.idDemande:
                raise error from None  # someone else's structure: the effect cannot happen

    async def _deactivate(self, request: StructureRequest, actor: Actor) -> None:
        try:
            await set_statut(self._structures, request.identifiant, False, actor)
        except DomainError as error:
            if error.code is not ErrorCode.STRUCTURE_INACTIVE:
                raise

    async def complete_pending(self) -> int:
        """Finish the effects of accepted requests that a crash interrupted."""
        pending = await self.store.find({"statut": "ACCEPTEE", "effet": TO_APPLY})
        for found in pending:
            log.warning("request_effect_resumed", request=found.model.idDemande)
            await self._apply(found.model, Actor.system(f"recovery-{found.model.idDemande}"))
        return len(pending)
