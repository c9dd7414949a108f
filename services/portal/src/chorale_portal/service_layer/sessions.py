"""Signing in and out, and keeping a session's access token fresh.

The person's browser holds only a random session id (cookie). The session record holds the
person's name for the pages and their tokens sealed under a key derived from that id (see
domain/secrets.py). An access token about to expire is exchanged for a new one with the refresh
token — once per session even when several pages load at the same time: identity treats a
refresh token presented twice as stolen and ends the whole session."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chorale_portal.adapters.services_api import (
    ApiProblem,
    NotSignedIn,
    ServicesApi,
    ServiceUnavailable,
)
from chorale_portal.adapters.session_store import PENDING_SIGN_INS, SESSIONS, SessionStore
from chorale_portal.domain.secrets import csrf_token, new_secret, record_id, seal, unseal
from chorale_runtime.logging import get_logger

log = get_logger(__name__)

REFRESH_MARGIN_SECONDS = 30
TOUCH_EVERY_SECONDS = 60
PENDING_SIGN_IN_TTL = timedelta(minutes=5)


@dataclass
class Session:
    secret: str
    user: dict[str, Any]
    tokens: dict[str, Any]
    last_seen: datetime

    @property
    def id(self) -> str:
        return record_id(self.secret)

    @property
    def csrf(self) -> str:
        return csrf_token(self.secret)

    @property
    def display_name(self) -> str:
        name = f"{self.user.get('prenom') or ''} {self.user.get('nom') or ''}".strip()
        return name or self.user.get("loginEmail") or ""


class Sessions:
    def __init__(self, store: SessionStore, api: ServicesApi, *, idle: timedelta,
                 max_age: timedelta, clock: Callable[[], float] = time.time):
        self._store = store
        self._api = api
        self._idle = idle
        self._max_age = max_age
        self._clock = clock
        self._refreshing: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary())

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _tokens(self, answer: dict[str, Any]) -> dict[str, Any]:
        return {"access": answer["accessToken"], "refresh": answer["refreshToken"],
                "accessExpiresAt": self._clock() + int(answer.get("expiresIn") or 0)}

    # -- signing in -----------------------------------------------------------------------
    async def sign_in(self, email: str, password: str, totp: str | None = None) -> Session:
        """A new session (a new id: never one the browser had before); ApiProblem when
        identity refuses (INVALID_CREDENTIALS, TOTP_REQUIRED, TOTP_INVALID…)."""
        body: dict[str, Any] = {"email": email, "password": password}
        if totp:
            body["totp"] = totp
        answer = await self._api.call("identity", "POST", "/v1/auth/login", json=body)
        tokens = self._tokens(answer)
        me = await self._api.call("identity", "GET", "/v1/me", token=tokens["access"])
        now = self._now()
        session = Session(new_secret(), _user_of(me), tokens, now)
        await self._store.put(SESSIONS, {
            "_id": session.id, "user": session.user, "sealed": seal(session.secret, tokens),
            "createdAt": now, "endsAt": now + self._max_age, "lastSeenAt": now,
            "expiresAt": min(now + self._idle, now + self._max_age),
        })
        return session

    async def hold_sign_in(self, email: str, password: str) -> str:
        """Keep the credentials while the person types their TOTP code, sealed under a
        one-time secret that only their cookie holds. Returns that secret."""
        secret = new_secret()
        await self._store.put(PENDING_SIGN_INS, {
            "_id": record_id(secret),
            "sealed": seal(secret, {"email": email, "password": password}),
            "expiresAt": self._now() + PENDING_SIGN_IN_TTL,
        })
        return secret

    async def held_sign_in(self, secret: str | None) -> dict[str, str] | None:
        if not secret:
            return None
        record = await self._store.get(PENDING_SIGN_INS, record_id(secret))
        if record is None or record["expiresAt"] < self._now():
            return None
        return unseal(secret, record["sealed"])

    async def drop_held_sign_in(self, secret: str | None) -> None:
        if secret:
            await self._store.delete(PENDING_SIGN_INS, record_id(secret))

    # -- using a session ------------------------------------------------------------------
    async def load(self, secret: str | None) -> Session | None:
        if not secret or len(secret) > 100:
            return None
        record = await self._store.get(SESSIONS, record_id(secret))
        now = self._now()
        if record is None:
            return None
        if record["expiresAt"] < now:
            await self._store.delete(SESSIONS, record["_id"])
            return None
        tokens = unseal(secret, record["sealed"])
        if tokens is None:
            return None
        session = Session(secret, record["user"], tokens, record["lastSeenAt"])
        if (now - session.last_seen).total_seconds() >= TOUCH_EVERY_SECONDS:
            await self._store.update(SESSIONS, session.id, {
                "lastSeenAt": now, "expiresAt": min(now + self._idle, record["endsAt"])})
        return session

    async def access_token(self, session: Session) -> str:
        """The session's access token, refreshed first when it is about to expire."""
        if session.tokens["accessExpiresAt"] - REFRESH_MARGIN_SECONDS > self._clock():
            return session.tokens["access"]
        lock = self._refreshing.get(session.id)
        if lock is None:
            lock = self._refreshing[session.id] = asyncio.Lock()
        async with lock:
            # Another page of the same session may have refreshed while this one waited.
            fresh = await self.load(session.secret)
            if fresh is None:
                raise NotSignedIn("SESSION_ENDED")
            session.tokens = fresh.tokens
            if session.tokens["accessExpiresAt"] - REFRESH_MARGIN_SECONDS > self._clock():
                return session.tokens["access"]
            try:
                answer = await self._api.call(
                    "identity", "POST", "/v1/auth/refresh",
                    json={"refreshToken": session.tokens["refresh"]})
            except ApiProblem as exc:
                await self._store.delete(SESSIONS, session.id)
                raise NotSignedIn(exc.code) from exc
            session.tokens = self._tokens(answer)
            await self._store.update(SESSIONS, session.id,
                                     {"sealed": seal(session.secret, session.tokens)})
            return session.tokens["access"]

    async def remember_user(self, session: Session, me: dict[str, Any]) -> None:
        """After a profile change: the name shown in the header follows."""
        session.user = _user_of(me)
        await self._store.update(SESSIONS, session.id, {"user": session.user})

    async def sign_out(self, session: Session) -> None:
        """Ends the session at identity (its refresh token is revoked) and here."""
        await self._store.delete(SESSIONS, session.id)
        try:
            await self._api.call("identity", "POST", "/v1/auth/logout",
                                 json={"refreshToken": session.tokens["refresh"]})
        except ApiProblem:
            pass  # an unknown or already revoked token: the session is over either way
        except ServiceUnavailable as exc:
            # Signed out here all the same; the refresh token dies of old age at identity.
            log.warning("logout_not_told_to_identity", reason=exc.reason)

    async def end(self, session: Session) -> None:
        """Forget the session without telling identity (it already refused the token)."""
        await self._store.delete(SESSIONS, session.id)


def _user_of(me: dict[str, Any]) -> dict[str, Any]:
    return {key: me.get(key) for key in ("id", "loginEmail", "prenom", "nom", "roles")}
