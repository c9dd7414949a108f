"""Invoice-level rules (DESIGN.md §6): partner, recipient, service code, engagement, dates,
duplicates. Pure: the caller looks the recipient up in its read model of the directory and
tells whether the duplicate key is already taken."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from urllib.parse import quote

from chorale_contracts.events.common import StatutService
from chorale_intake.domain.directory import (
    RESERVED_PUBLIC_SERVICE,
    RecipientEntry,
    RecipientService,
)
from chorale_intake.domain.errors import IntakeError, RuleCode, rule_error
from chorale_intake.domain.extraction import InvoiceFacts

ENGAGEMENT_MAX_LENGTH = 50

_BLANKS = re.compile(r"\s+")
_ORDER = {code: index for index, code in enumerate(RuleCode)}


def normalise_identifier(identifier: str) -> str:
    """SIRET and other structure identifiers compare without blanks, case-insensitively."""
    return _BLANKS.sub("", identifier).upper()


def duplicate_key(facts: InvoiceFacts) -> str:
    """`<supplier>|<issue year>|<invoice number>`, normalised and escaped, to be unique among
    integrated invoices. Invoice numbers compare case-insensitively with blanks collapsed."""
    if facts.number is None or facts.issue_date is None:
        raise ValueError("an invoice without number or issue date has no duplicate key")
    supplier = normalise_identifier(facts.supplier_identifier or "")
    number = _BLANKS.sub(" ", facts.number.strip()).upper()
    return f"{quote(supplier, safe='')}|{facts.issue_date.year:04d}|{quote(number, safe='')}"


def check_invoice(
    facts: InvoiceFacts,
    *,
    partner_identifier: str,
    recipient: RecipientEntry | None,
    today: date,
    is_duplicate: bool,
    partner_is_public: bool = False,
) -> list[IntakeError]:
    """Every invoice-level error of `facts`, in the order of `RuleCode`; [] means accepted.

    - `partner_identifier`: identifier of the structure owning the depositing technical account.
    - `recipient`: the directory entry of `facts.buyer_identifier`, None if unknown.
    - `today`: the deposit date (the caller's clock, in Europe/Paris).
    - `is_duplicate`: whether `duplicate_key(facts)` is already held by an integrated invoice.
    - `partner_is_public`: whether the partner's structure is a public structure (from the
      caller's directory read model); only public structures may use `FACTURES_PUBLIQUES`.
      Defaults to False so that a caller that does not know refuses the reserved service.
    """
    errors = [
        *_supplier(facts, partner_identifier),
        *_recipient(facts, recipient, partner_is_public),
        *_engagement_length(facts),
        *_dates(facts, today),
    ]
    if is_duplicate:
        errors.append(duplicate_error(facts))
    return in_rule_order(errors)


def in_rule_order(errors: Iterable[IntakeError]) -> list[IntakeError]:
    """Errors in the order of `RuleCode` (stable: findings of one rule keep theirs)."""
    return sorted(errors, key=lambda error: _ORDER[error.code])


def duplicate_error(facts: InvoiceFacts) -> IntakeError:
    """DUPLICATE_INVOICE: `duplicate_key(facts)` is held by another, integrated invoice."""
    return rule_error(
        RuleCode.DUPLICATE_INVOICE,
        path=facts.paths.display("number"),
        value=facts.number,
        number=facts.number,
        supplier=facts.supplier_identifier,
        year=facts.issue_date.year if facts.issue_date else "?",
    )


def _supplier(facts: InvoiceFacts, partner_identifier: str) -> list[IntakeError]:
    supplier = facts.supplier_identifier
    if supplier is not None and normalise_identifier(supplier) == normalise_identifier(
        partner_identifier
    ):
        return []
    return [
        rule_error(
            RuleCode.SUPPLIER_NOT_PARTNER,
            path=facts.paths.display("supplier_id"),
            value=supplier,
            supplier=supplier or "non renseigné",
            partner=partner_identifier,
        )
    ]


def _recipient(
    facts: InvoiceFacts, recipient: RecipientEntry | None, partner_is_public: bool
) -> list[IntakeError]:
    buyer = facts.buyer_identifier
    buyer_path = facts.paths.display("buyer_id")
    if buyer is None:
        return [rule_error(RuleCode.RECIPIENT_MISSING, path=buyer_path)]
    if recipient is None:
        return [
            rule_error(RuleCode.RECIPIENT_UNKNOWN, path=buyer_path, value=buyer, recipient=buyer)
        ]
    errors = []
    if not recipient.is_active:
        errors.append(
            rule_error(RuleCode.RECIPIENT_INACTIVE, path=buyer_path, value=buyer, recipient=buyer)
        )
    if not recipient.is_public:
        errors.append(
            rule_error(RuleCode.RECIPIENT_NOT_PUBLIC, path=buyer_path, value=buyer, recipient=buyer)
        )
    return errors + _service_and_engagement(facts, recipient, partner_is_public)


def _service_and_engagement(
    facts: InvoiceFacts, recipient: RecipientEntry, partner_is_public: bool
) -> list[IntakeError]:
    buyer = facts.buyer_identifier
    code = facts.service_code
    service_path = facts.paths.display("service_code")
    engagement_path = facts.paths.display("engagement")
    parameters = recipient.parameters
    errors: list[IntakeError] = []
    service = None

    if code is None:
        if parameters.service_code_required:
            errors.append(
                rule_error(RuleCode.SERVICE_CODE_REQUIRED, path=service_path, recipient=buyer)
            )
    else:
        # An existing, active service code is always checked when one is given.
        service = recipient.service(code)
        is_reserved = code.strip() == RESERVED_PUBLIC_SERVICE
        if service is None and not (is_reserved and recipient.is_public):
            # Every public structure has the reserved service, even if the snapshot omits it.
            errors.append(
                rule_error(
                    RuleCode.SERVICE_UNKNOWN,
                    path=service_path,
                    value=code,
                    service=code,
                    recipient=buyer,
                )
            )
        elif service is not None and not _active(service, facts.issue_date):
            errors.append(
                rule_error(
                    RuleCode.SERVICE_INACTIVE,
                    path=service_path,
                    value=code,
                    service=code,
                    recipient=buyer,
                    reason=_inactive_reason(service, facts.issue_date),
                )
            )
        if is_reserved and not partner_is_public:
            errors.append(
                rule_error(
                    RuleCode.SERVICE_RESERVED,
                    path=service_path,
                    value=code,
                    service=code,
                    supplier=facts.supplier_identifier or "non renseigné",
                )
            )

    if facts.engagement is None:
        if parameters.engagement_required:
            errors.append(
                rule_error(
                    RuleCode.ENGAGEMENT_REQUIRED,
                    path=engagement_path,
                    target=f"le destinataire {buyer}",
                )
            )
        elif service is not None and service.engagement_required:
            errors.append(
                rule_error(
                    RuleCode.ENGAGEMENT_REQUIRED,
                    path=engagement_path,
                    target=f"le service « {service.code} » du destinataire {buyer}",
                )
            )

    # The one-of rule is implied by either "required" error above: report it only on its own.
    already_required = any(
        e.code in (RuleCode.SERVICE_CODE_REQUIRED, RuleCode.ENGAGEMENT_REQUIRED) for e in errors
    )
    if (
        parameters.service_or_engagement_required
        and code is None
        and facts.engagement is None
        and not already_required
    ):
        errors.append(
            rule_error(
                RuleCode.SERVICE_OR_ENGAGEMENT_REQUIRED,
                path=f"{service_path} | {engagement_path}",
                recipient=buyer,
            )
        )
    return errors


def _active(service: RecipientService, day: date | None) -> bool:
    if day is None:
        return service.statut is StatutService.ACTIF
    return service.active_on(day)


def _inactive_reason(service: RecipientService, day: date | None) -> str:
    if service.statut is not StatutService.ACTIF:
        return " (statut INACTIF)"
    end = service.activation_end.isoformat() if service.activation_end else "sans fin"
    return (
        f" à la date de la facture {day.isoformat() if day else '?'} "
        f"(période d'activation : du {service.activation_start.isoformat()} au {end})"
    )


def _engagement_length(facts: InvoiceFacts) -> list[IntakeError]:
    engagement = facts.engagement
    if engagement is None or len(engagement) <= ENGAGEMENT_MAX_LENGTH:
        return []
    return [
        rule_error(
            RuleCode.ENGAGEMENT_TOO_LONG,
            path=facts.paths.display("engagement"),
            value=engagement,
            limit=ENGAGEMENT_MAX_LENGTH,
            length=len(engagement),
        )
    ]


def _dates(facts: InvoiceFacts, today: date) -> list[IntakeError]:
    if facts.issue_date is None or facts.issue_date <= today:
        return []
    return [
        rule_error(
            RuleCode.ISSUE_DATE_IN_FUTURE,
            path=facts.paths.display("issue_date"),
            value=facts.issue_date.isoformat(),
            issue_date=facts.issue_date.isoformat(),
            today=today.isoformat(),
        )
    ]
