"""Asks identity for the usable link of a verification or reset mail, at the moment the mail
is sent (``POST /internal/v1/mail-links/{linkId}/token``, with the service secret).

The link is put in the SMTP message only: the event, the delivery log and everything else
notifications stores hold the opaque link id. Each call mints a new token (the previous one
stops working), so a retried or re-sent delivery carries a link that works."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from chorale_notifications.settings import NotificationsSettings


class LinkUnavailable(Exception):
    """Identity will never give this link (used, expired, superseded, unknown): no mail."""


class LinkServiceError(Exception):
    """Identity could not answer now (down, misconfigured credential): try again later."""


class MailLinks:
    def __init__(self, settings: NotificationsSettings):
        self._base = settings.identity_url.rstrip("/")
        secret = settings.mail_links_client_secret
        self._secret = secret.get_secret_value() if secret else None
        self._timeout = settings.smtp_timeout

    async def mint(self, link_id: str) -> str:
        if not link_id:  # an event of an earlier version, whose link cannot be minted
            raise LinkUnavailable("lien d'une version antérieure")
        if self._secret is None:
            raise LinkServiceError("CHORALE_MAIL_LINKS_CLIENT_SECRET n'est pas configuré")
        url = f"{self._base}/internal/v1/mail-links/{quote(link_id, safe='')}/token"
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as c:
                response = await c.post(url, headers={"Authorization": f"Bearer {self._secret}"})
        except httpx.HTTPError as exc:
            raise LinkServiceError(f"identité injoignable ({type(exc).__name__})") from None
        if response.status_code in (404, 410):
            raise LinkUnavailable("lien expiré, déjà utilisé ou remplacé")
        if response.status_code != 200:
            raise LinkServiceError(f"identité a répondu {response.status_code}")
        try:
            return str(response.json()["link"])
        except (ValueError, KeyError) as exc:
            raise LinkServiceError("réponse d'identité illisible") from exc
