"""Registration, e-mail verification and "send the link again".

No enumeration: registering an address that already has an account costs the same argon2id
hash, answers the same, and creates nothing; the existing account receives nothing, except a
fresh verification link if it is still waiting for one (its owner may just have lost the mail).

The request only validates the fields and hashes the password (``prepare``: the same work
whatever the address); the database work, which differs between a new and a taken address
(three inserts against a failed claim and a read), happens after the answer (``store``), so
the response time says nothing about the address either.
"""

from __future__ import annotations

from dataclasses import dataclass

from chorale_identity import metrics
from chorale_identity.adapters.documents import AlreadyExists, Versioned
from chorale_identity.domain import accounts
from chorale_identity.domain.accounts import AccountStatus, UserAccount
from chorale_identity.domain.base import Transition
from chorale_identity.domain.events import USER_REGISTERED
from chorale_identity.domain.verification import LinkPurpose
from chorale_identity.service_layer.contact_email import send_pending_confirmation
from chorale_identity.service_layer.context import IdentityContext, retrying
from chorale_identity.service_layer.events import Cause, events_of
from chorale_identity.service_layer.mail_links import (
    check_link,
    link_fields,
    mark_used,
    new_link_message,
    send_link_to,
    send_link_to_user,
)
from chorale_runtime.logging import get_logger

log = get_logger(__name__)

VERIFY = LinkPurpose.EMAIL_VERIFICATION


@dataclass(frozen=True)
class Registration:
    email: str
    password: str
    prenom: str
    nom: str
    contact_email: str | None = None
    telephone: str | None = None
    mobile: str | None = None

    def __repr__(self) -> str:
        return f"Registration(prenom={self.prenom!r}, nom={self.nom!r}, password='***')"


async def prepare(ctx: IdentityContext, cmd: Registration) -> UserAccount:
    """Validate every field and hash the password, whether or not the address is taken."""
    now = ctx.now()
    transition = await ctx.password_work.run(
        accounts.register,
        login_email=cmd.email,
        password=cmd.password,
        prenom=cmd.prenom,
        nom=cmd.nom,
        contact_email=cmd.contact_email,
        telephone=cmd.telephone,
        mobile=cmd.mobile,
        now=now,
        hasher=ctx.hasher,
    )
    return transition.state


async def store(ctx: IdentityContext, account: UserAccount, cause: Cause) -> None:
    """Create the account, or, for a taken address, at most re-send its verification link."""
    metrics.record_registration()
    owner = await ctx.accounts.claim_login(account.login_email, account.id, ctx.now())
    if owner != account.id:
        existing = await ctx.accounts.get(owner)
        if existing is not None:
            await _existing_login(ctx, existing, cause)
            return
        account = account.model_copy(update={"id": owner})  # finish a claim a crash left
    await _create(ctx, account, cause)


async def _create(ctx: IdentityContext, account: UserAccount, cause: Cause) -> None:
    now = ctx.now()
    pending = Versioned(account, 0, {})
    message = new_link_message(ctx, pending, VERIFY, cause)
    assert message is not None
    issued, link_events, fields = message
    await ctx.links.add(issued)
    events = events_of(Transition(account, USER_REGISTERED), cause, now)
    try:
        await ctx.accounts.add(account, [*events, *link_events], fields)
    except AlreadyExists:
        log.info("registration_raced", user_id=account.id)
        return
    log.info("user_registered", user_id=account.id)


async def _existing_login(ctx: IdentityContext, existing: Versioned[UserAccount], cause: Cause):
    log.info("registration_for_existing_login", user_id=existing.value.id)
    if existing.value.status is AccountStatus.PENDING_VERIFICATION:
        await send_link_to_user(
            ctx, existing.value.id, VERIFY, AccountStatus.PENDING_VERIFICATION, cause
        )


async def resend_verification(ctx: IdentityContext, email: str, cause: Cause) -> None:
    """Always answered the same way; sends only to an account still waiting for verification."""
    await send_link_to(ctx, email, VERIFY, AccountStatus.PENDING_VERIFICATION, cause)


async def verify_email(ctx: IdentityContext, token: str, cause: Cause) -> UserAccount:
    used, _ = await check_link(ctx, token, VERIFY)
    await mark_used(ctx, used)

    async def attempt() -> UserAccount:
        stored = await ctx.accounts.get(used.user_id)
        assert stored is not None
        transition = accounts.verify_email(stored.value, ctx.now())
        fields = link_fields(stored, VERIFY, None)
        events = events_of(transition, cause, ctx.now())
        return (await ctx.accounts.save(stored, transition.state, events, fields)).value

    account = await retrying(attempt)
    log.info("user_verified", user_id=account.id)
    if account.pending_contact_email:
        await send_pending_confirmation(ctx, account.id, cause)
    return account
