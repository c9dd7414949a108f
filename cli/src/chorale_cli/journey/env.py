"""What the journey needs from its surroundings: where the services are, the EDI root, the mail
that was sent, and how an operator account is bootstrapped."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


class Mailbox:
    """Mails as the development mail catcher stores them: one .eml file per message."""

    def __init__(self, folder: Path):
        self.folder = folder

    def all(self) -> list[Mail]:
        mails = []
        for path in sorted(self.folder.glob("*.eml")):
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            body = msg.get_body(("plain",))
            mails.append(Mail(str(msg["To"]).lower(), str(msg["Subject"]),
                              body.get_content() if body else ""))
        return mails

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.all() if address.lower() in m.to]


@dataclass
class JourneyEnv:
    structures: str
    identity: str
    habilitations: str
    intake: str
    notifications: str
    edi_root: Path
    mailbox: Mailbox
    create_operator: Callable[[str, str], Awaitable[None]]
    narrate: Callable[[str], None] = print
    timeout: float = 60.0
    run_id: str = field(default="")
