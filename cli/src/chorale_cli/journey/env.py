"""What the journey needs from its surroundings: where the services are, the EDI root, the mail
that was sent, and how an operator account is bootstrapped."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from chorale_cli.mailcatcher import read_mail


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


class Mailbox:
    """Mails as the development mail catcher stores them: one .eml file per message, renamed
    into place once written, so each is parsed once (tests poll while hundreds arrive)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._parsed: dict[str, Mail] = {}

    def all(self) -> list[Mail]:
        mails = []
        for path in sorted(self.folder.glob("*.eml")):
            mail = self._parsed.get(path.name)
            if mail is None:
                fields = read_mail(path)
                mail = self._parsed[path.name] = Mail(
                    fields["to"].lower(), fields["subject"], fields["text"])
            mails.append(mail)
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
    invoices: str = ""  # the invoices service ("": chapter 4 bis is skipped)
