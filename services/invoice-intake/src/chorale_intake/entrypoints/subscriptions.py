"""What the intake consumes: the directory (compacted) and technical accounts.

Both read models must be complete in every replica (a replica routes invoices and checks
deposits on its own), so each replica reads the topics with its own consumer group
(`<name>-<instance_id>`), from its last committed offset, on top of what the database already
holds. `/ready` stays false until these consumers have caught up (runtime readiness).
"""

from __future__ import annotations

from chorale_contracts import Envelope, Topic
from chorale_contracts.events.directory import DirectorySnapshot
from chorale_contracts.events.identity import TechnicalAccountCreated, TechnicalAccountRevoked
from chorale_intake.adapters.accounts_model import AccountsModel
from chorale_intake.adapters.directory_model import DirectoryModel
from chorale_intake.adapters.edi_folders import is_safe_account_id
from chorale_runtime.consumer import PermanentError, Subscription
from chorale_runtime.logging import get_logger

log = get_logger(__name__)


def directory_subscription(model: DirectoryModel, instance_id: str) -> Subscription:
    async def on_snapshot(envelope: Envelope, event: DirectorySnapshot) -> None:
        if await model.apply(event):
            log.info("directory_entry_updated", identifiant=event.identifiant,
                     version=event.version)

    return Subscription(
        name=f"directory-{instance_id}",
        topics=(Topic.DIRECTORY,),
        handlers={DirectorySnapshot.event_type: on_snapshot},
        description="Annuaire : destinataires, services et paramètres de chaque structure",
    )


def identity_subscription(model: AccountsModel, instance_id: str) -> Subscription:
    async def on_created(envelope: Envelope, event: TechnicalAccountCreated) -> None:
        if not is_safe_account_id(event.technicalAccountId):
            raise PermanentError(
                f"technical account id {event.technicalAccountId!r} cannot name an EDI folder"
            )
        await model.created(event)
        log.info("technical_account_known", technical_account=event.technicalAccountId,
                 structure=event.structure)

    async def on_revoked(envelope: Envelope, event: TechnicalAccountRevoked) -> None:
        await model.revoked(event)
        log.info("technical_account_revoked", technical_account=event.technicalAccountId)

    return Subscription(
        name=f"identity-{instance_id}",
        topics=(Topic.IDENTITY,),
        handlers={
            TechnicalAccountCreated.event_type: on_created,
            TechnicalAccountRevoked.event_type: on_revoked,
        },
        description="Comptes techniques : dossiers EDI, structure déposante, révocations",
    )
