"""Sends one mail over SMTP with aiosmtplib and says whether a failure is worth retrying."""

from __future__ import annotations

import asyncio
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


class Mailer:
    def __init__(self, settings: NotificationsSettings):
        self._s = settings

    async def send(self, mail: Mail) -> SendResult:
        s = self._s
        password = s.smtp_password.get_secret_value() if s.smtp_password else None
        try:
            _errors, answer = await aiosmtplib.send(
                build_message(mail, s.smtp_sender),
                hostname=s.smtp_host,
                port=s.smtp_port,
                use_tls=s.smtp_security == "tls",
                start_tls=True if s.smtp_security == "starttls" else False,
                username=s.smtp_username,
                password=password,
                timeout=s.smtp_timeout,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return classify(exc)
        return SendResult("SENT", answer)
