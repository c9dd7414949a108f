"""The contact e-mail (where notifications go) is only ever an address someone proved they
read: the login (proven by the verification link), or an address whose own confirmation link
was followed. A new address waits in ``pending_contact_email`` until then, and mail keeps
going to the previous one. Links that prove or recover the account (verification, password
reset) go to the login only (``verification.ACCOUNT_PURPOSES``): a contact address typed by
someone else must never be able to take the login over.
"""

from __future__ import annotations

from datetime import datetime

from . import events
from .accounts import UserAccount, require_not_deactivated
from .base import Transition
from .clock import require_utc
from .errors import DomainError, ErrorCode
from .validation import normalise_email


def request_contact_email(account: UserAccount, address: str, now: datetime) -> UserAccount:
    """A new contact address waits for its confirmation link (``pending_contact_email``);
    mail keeps going to the current one. Asking for the current contact address cancels a
    pending change. The login is proven already: choosing it again takes effect at once
    (the caller sends a link only when ``pending_contact_email`` is set afterwards).
    """
    require_not_deactivated(account)
    wanted = normalise_email(address)
    now = require_utc(now)
    if wanted == account.contact_email:
        if account.pending_contact_email is None:
            return account
        return account.model_copy(update={"pending_contact_email": None, "updated_at": now})
    if wanted == account.login_email:
        return account.model_copy(
            update={"contact_email": wanted, "pending_contact_email": None, "updated_at": now}
        )
    return account.model_copy(update={"pending_contact_email": wanted, "updated_at": now})


def contact_email_changed(before: UserAccount, after: UserAccount) -> Transition[UserAccount]:
    """The ``user.profile_updated`` event when the contact address in force changed."""
    if before.contact_email == after.contact_email:
        return Transition(after, None)
    return Transition(after, events.USER_PROFILE_UPDATED, {"champs": ["contact_email"]})


def confirm_contact_email(
    account: UserAccount, address: str, now: datetime
) -> Transition[UserAccount]:
    """The link sent to ``address`` was followed: it becomes the contact e-mail, if it is
    still the one waiting (a later request supersedes it)."""
    require_not_deactivated(account)
    if account.pending_contact_email is None or account.pending_contact_email != address:
        raise DomainError(ErrorCode.VERIFICATION_LINK_INVALID)
    updated = account.model_copy(
        update={
            "contact_email": address,
            "pending_contact_email": None,
            "updated_at": require_utc(now),
        }
    )
    return contact_email_changed(account, updated)
