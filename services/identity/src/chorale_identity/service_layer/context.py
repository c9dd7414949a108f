"""Everything a use case may need, wired once by ``bootstrap`` (or by a test)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from chorale_identity.adapters.accounts import AccountRepository
from chorale_identity.adapters.documents import ConcurrentUpdate
from chorale_identity.adapters.gestionnaires import GestionnaireRepository
from chorale_identity.adapters.invitations import InvitationRepository
from chorale_identity.adapters.links import LinkRepository
from chorale_identity.adapters.rattachements import RattachementRepository
from chorale_identity.adapters.refresh_families import RefreshFamilyRepository
from chorale_identity.adapters.sign_in_decoys import SignInDecoys
from chorale_identity.adapters.structures import StructureDirectory
from chorale_identity.adapters.technical_accounts import TechnicalAccountRepository
from chorale_identity.domain.clock import Clock
from chorale_identity.domain.passwords import PasswordHasher
from chorale_identity.service_layer.password_work import PasswordWork
from chorale_identity.service_layer.signing_keys import KeyRing
from chorale_identity.settings import IdentitySettings
from chorale_runtime.authz import Authorizer

T = TypeVar("T")


@dataclass
class IdentityContext:
    settings: IdentitySettings
    clock: Clock
    hasher: PasswordHasher
    keys: KeyRing
    accounts: AccountRepository
    links: LinkRepository
    refresh: RefreshFamilyRepository
    rattachements: RattachementRepository
    gestionnaires: GestionnaireRepository
    technical: TechnicalAccountRepository
    structures: StructureDirectory
    authorizer: Authorizer
    password_work: PasswordWork
    decoys: SignInDecoys
    invitations: InvitationRepository

    def now(self) -> datetime:
        return self.clock.now()


async def retrying(attempt: Callable[[], Awaitable[T]], times: int = 12) -> T:
    """Run a read-decide-write use case again when its compare-and-set lost a race, after a
    short random pause (growing) so that contenders do not collide again in lockstep."""
    for round_ in range(times - 1):
        try:
            return await attempt()
        except ConcurrentUpdate:
            await asyncio.sleep(random.uniform(0, 0.002 * 2 ** min(round_, 6)))
    return await attempt()
