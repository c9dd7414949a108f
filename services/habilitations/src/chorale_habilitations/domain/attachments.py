"""What habilitations knows of a user from identity's events: their rattachements and whether
the account is deactivated. A grant needs a VALIDEE rattachement at its level or at the
structure level: a structure-level grant needs a structure-level rattachement, a grant on a
service needs a rattachement to that service or to the whole structure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AttachmentStatus(StrEnum):
    VALIDEE = "VALIDEE"
    DESACTIVEE = "DESACTIVEE"


@dataclass(frozen=True)
class Attachment:
    rattachement_id: str
    structure: str
    code_service: str | None
    status: AttachmentStatus


@dataclass(frozen=True)
class Membership:
    user_id: str
    attachments: tuple[Attachment, ...] = ()
    deactivated: bool = False

    def backs(self, structure: str, code_service: str | None) -> bool:
        """Whether a grant on (structure, code_service) is backed by a live rattachement."""
        return any(
            a.status is AttachmentStatus.VALIDEE and a.structure == structure
            and (a.code_service is None or a.code_service == code_service)
            for a in self.attachments
        )

    def ever_attached(self, structure: str) -> bool:
        return any(a.structure == structure for a in self.attachments)
