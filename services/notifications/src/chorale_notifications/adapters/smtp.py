"""Sends mails over SMTP with aiosmtplib, reusing connections, and says whether a failure is
worth retrying.

Connections are kept in a small pool (at most one per mail in flight, i.e. the dispatcher's
CHORALE_SMTP_CONCURRENCY): opening one costs a TCP (and TLS) handshake, EHLO and AUTH, many
times the cost of a message. An idle connection is closed after `IDLE_SECONDS`; a reused one
the server closed meanwhile is replaced once, transparently."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Literal

import aiosmtplib

from chorale_notifications.settings import NotificationsSettings

Outcome = Literal["SENT", "TRANSIENT", "PERMANENT"]


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    message_id: str  # the Message-ID header, "<id@domain>"
    category: str


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    answer: str  # the server's reply, or what went wrong


def build_message(mail: Mail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = mail.message_id
    msg["X-Chorale-Category"] = mail.category
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    return msg


def classify(exc: BaseException) -> SendResult:
    """4xx replies, timeouts and connection trouble pass; a 5xx refusal will not (except a
    failed login, which is the platform's configuration, not the message)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        answer = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        permanent = bool(codes) and all(c >= 500 for c in codes)
        return SendResult("PERMANENT" if permanent else "TRANSIENT", answer)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SendResult("TRANSIENT", f"{exc.code} {exc.message}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        outcome: Outcome = "PERMANENT" if exc.code >= 500 else "TRANSIENT"
        return SendResult(outcome, f"{exc.code} {exc.message}")
    return SendResult("TRANSIENT", f"{type(exc).__name__}: {exc}"[:500])


IDLE_SECONDS = 20.0


class Mailer:
    def __init__(self, settings: NotificationsSettings):
        self._s = settings
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []

    async def send(self, mail: Mail) -> SendResult:
        message = build_message(mail, self._s.smtp_sender)
        while True:
            try:
                connection, reused = await self._acquire()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                return classify(exc)
            try:
                _errors, answer = await connection.send_message(message)
            except asyncio.CancelledError:
                await _close(connection)
                raise
            except aiosmtplib.SMTPServerDisconnected as exc:
                await _close(connection)
                if reused:  # the server dropped an idle connection: open a fresh one
                    continue
                return classify(exc)
            except Exception as exc:
                await _close(connection)  # its state after a failed transaction is unknown
                return classify(exc)
            self._idle.append((connection, time.monotonic()))
            return SendResult("SENT", answer)

    async def _acquire(self) -> tuple[aiosmtplib.SMTP, bool]:
        while self._idle:
            connection, since = self._idle.pop()
            if connection.is_connected and time.monotonic() - since < IDLE_SECONDS:
                return connection, True
            await _close(connection)
        s = self._s
        connection = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            use_tls=s.smtp_security == "tls",
            start_tls=True if s.smtp_security == "starttls" else False,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            timeout=s.smtp_timeout,
        )
        await connection.connect()
        return connection, False

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection, _since in idle:
            await _close(connection, polite=True)


async def _close(connection: aiosmtplib.SMTP, polite: bool = False) -> None:
    with contextlib.suppress(Exception):
        if polite and connection.is_connected:
            await asyncio.wait_for(connection.quit(), 2)
            return
        connection.close()
