"""Fetches an invoice's original file from the intake's authorized route, with the caller's
own token: the intake decides again whether this person may read it."""

from __future__ import annotations

import httpx

from chorale_invoices.domain.errors import InvoiceError

MAX_BYTES = 20 * 1024 * 1024


class IntakeClient:
    def __init__(self, base_url: str, timeout: float = 10.0):
        self._base = base_url.rstrip("/")
        self._timeout = timeout

    async def original(self, invoice_id: str, authorization: str) -> bytes:
        url = f"{self._base}/v1/invoices/{invoice_id}/original"
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client, client.stream(
                    "GET", url, headers={"Authorization": authorization}) as response:
                if response.status_code in (401, 403, 404, 410):
                    raise InvoiceError(
                        "ORIGINAL_NOT_AVAILABLE", "Le fichier original de cette facture n'est "
                        "pas accessible avec vos habilitations (ou n'est plus archivé).",
                        status=404)
                if response.status_code != 200:
                    raise httpx.HTTPStatusError("intake", request=response.request,
                                                response=response)
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise InvoiceError("ORIGINAL_TOO_LARGE", "Le fichier original est trop "
                                           "volumineux pour être affiché.", status=422)
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError as exc:
            raise InvoiceError("INTAKE_UNAVAILABLE", "Le service de dépôt est indisponible, "
                               "réessayez.", status=503) from exc
