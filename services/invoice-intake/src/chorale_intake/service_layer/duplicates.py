"""DUPLICATE_INVOICE, atomically: an invoice (supplier, year, number) is integrated once.

An invoice that passes every other rule claims its key with a unique insert, just before its
flow's terminal record is written; the claim is what lets it be integrated. A key already held
means a duplicate, unless the holder is:
- this very flow (a restart or a re-run met its own claim): it re-confirms it;
- a flow that ended without integrating (IN_INCIDENTE after claiming) or that no longer exists:
  the claim is stale and is taken over.
Both are compare-and-set on the claim's epoch, so two flows can never both win one key. A flow
still in progress or integrated keeps its claim.

Invoices rejected for other reasons claim nothing; they are still told about a duplicate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from chorale_contracts.events.common import FlowStatus
from chorale_intake.adapters.flow_store import FlowStore
from chorale_intake.adapters.invoice_keys import Claim, InvoiceKeys

_ROUNDS = 5  # compare-and-set attempts before giving up (a technical failure, retried)


class ClaimContention(Exception):
    """The claim kept changing under us: retried as a technical failure."""


class Duplicates:
    def __init__(self, keys: InvoiceKeys, flows: FlowStore):
        self._keys = keys
        self._flows = flows

    async def _holds(self, held: Claim) -> bool:
        """Whether the holder of `held` still counts (in progress or integrated)."""
        flow = await self._flows.get(held.flow)
        return flow is not None and (not flow.terminal or flow.statut is FlowStatus.IN_INTEGRE)

    async def is_taken(self, key: str, flow: str) -> bool:
        """Whether another flow holds `key` for good (no claim is made)."""
        held = await self._keys.holder(key)
        return held is not None and held.flow != flow and await self._holds(held)

    async def claim(self, wanted: Sequence[Claim]) -> list[bool]:
        """Claim each key for its flow: True where the flow may integrate its invoice, False
        where the invoice is a duplicate."""
        inserted = await self._keys.claim(wanted)
        results = list(inserted)
        refused = [i for i, ok in enumerate(inserted) if not ok]
        decided = await asyncio.gather(*(self._settle(wanted[i]) for i in refused))
        for index, won in zip(refused, decided, strict=True):
            results[index] = won
        return results

    async def _settle(self, wanted: Claim) -> bool:
        for _ in range(_ROUNDS):
            held = await self._keys.holder(wanted.key)
            if held is None:  # released meanwhile: try the insert again
                if (await self._keys.claim([wanted]))[0]:
                    return True
                continue
            if held.flow != wanted.flow and await self._holds(held):
                return False
            if await self._keys.move(held, wanted.flow):
                return True
        raise ClaimContention(f"claim of {wanted.key} keeps changing")
