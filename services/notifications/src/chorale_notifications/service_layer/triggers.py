"""Who is told what: one handler per triggering event (DESIGN.md §6 "Notifications").

Recipients, names and greetings come from the read models; before reading them a handler
waits (bounded) until the read-model consumers have caught up with the topics, so an event
published before the trigger (a grant, an attachment, a directory snapshot) is taken into
account. Habilitation changes only feed the digest; verification mails need no read model.
Flows rejected and invoices made available, which come in bulk, are `bulk_notices.py`'s."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from chorale_contracts import Envelope
from chorale_contracts.events.habilitations import HabilitationChanged, _GrantEvent
from chorale_contracts.events.identity import (
    GestionnaireDesignated,
    GestionnaireTransferred,
    RattachementApproved,
    RattachementInvited,
    RattachementRefused,
    RattachementRequested,
    UserVerificationRequested,
)
from chorale_contracts.events.invoice_status import InvoiceStatus, InvoiceStatusChanged
from chorale_notifications.adapters.digests import HabilitationDigests
from chorale_notifications.adapters.read_models import Organisation, People, StructureNames
from chorale_notifications.domain import compose
from chorale_notifications.domain.categories import Category
from chorale_notifications.domain.compose import Draft, where
from chorale_notifications.service_layer.notifier import Notifier, Origin

Barrier = Callable[[datetime], Awaitable[None]]


class Triggers:
    def __init__(self, notifier: Notifier, people: People, org: Organisation,
                 names: StructureNames, digests: HabilitationDigests, caught_up: Barrier):
        self._n = notifier
        self._people = people
        self._org = org
        self._names = names
        self._digests = digests
        self._caught_up = caught_up

    async def _label(self, structure: str) -> str:
        return await self._names.label(structure)

    async def _full_name(self, user_id: str) -> tuple[str, str]:
        person = await self._people.get(user_id) or {}
        name = " ".join(p for p in (person.get("prenom"), person.get("nom")) if p)
        return name or user_id, person.get("contactEmail") or "adresse inconnue"

    async def _tell(self, env: Envelope, draft: Draft, users: set[str]) -> None:
        await self._n.notify(str(env.event_id), Origin.of(env), draft,
                             await self._people.active(users))

    async def rattachement_requested(self, env: Envelope, ev: RattachementRequested) -> None:
        await self._caught_up(env.occurred_at)
        users = await self._org.gestionnaires(ev.structure, ev.codeService) - {ev.userId}
        name, email = await self._full_name(ev.userId)
        await self._tell(env, Draft(Category.RATTACHEMENT_DEMANDE, "rattachement_demande", {
            "structure": where(await self._label(ev.structure), ev.codeService),
            "demandeur": name, "demandeur_email": email,
            "commentaire": ev.commentaire or "(aucun)",
        }), users)

    async def rattachement_invited(self, env: Envelope, ev: RattachementInvited) -> None:
        """To the invited person (their contact e-mail): identity emits this only for an
        account's login, never for an address nobody proved."""
        await self._caught_up(env.occurred_at)
        inviter, _ = await self._full_name(ev.invitedBy)
        draft = Draft(Category.RATTACHEMENT_DECISION, "rattachement_invitation", {
            "structure": where(await self._label(ev.structure), ev.codeService),
            "invitant": inviter, "commentaire": ev.commentaire or "(aucun)",
        })
        draft.context["lien"] = self._n.link("/mon-compte/invitations")
        await self._tell(env, draft, {ev.userId})

    async def rattachement_decided(
        self, env: Envelope, ev: RattachementApproved | RattachementRefused
    ) -> None:
        await self._caught_up(env.occurred_at)
        if isinstance(ev, RattachementRefused):
            template = "rattachement_refuse"
        else:
            template = "rattachement_direct" if ev.direct else "rattachement_approuve"
        await self._tell(env, Draft(Category.RATTACHEMENT_DECISION, template, {
            "structure": where(await self._label(ev.structure), ev.codeService),
            "commentaire": ev.commentaire or "(aucun)",
        }), {ev.userId})

    async def gestionnaire_transferred(self, env: Envelope, ev: GestionnaireTransferred) -> None:
        await self._caught_up(env.occurred_at)
        structure = await self._label(ev.structure)
        successor, _ = await self._full_name(ev.toUserId)
        predecessor, _ = await self._full_name(ev.fromUserId)
        await self._tell(env, Draft(Category.GESTIONNAIRE_PRINCIPAL, "gp_cedant", {
            "structure": structure, "successeur": successor,
        }), {ev.fromUserId})
        await self._tell(env, Draft(Category.GESTIONNAIRE_PRINCIPAL, "gp_beneficiaire", {
            "structure": structure, "precedent": f" (à la suite de {predecessor})",
        }), {ev.toUserId})

    async def gestionnaire_designated(self, env: Envelope, ev: GestionnaireDesignated) -> None:
        await self._caught_up(env.occurred_at)
        await self._tell(env, Draft(Category.GESTIONNAIRE_PRINCIPAL, "gp_beneficiaire", {
            "structure": await self._label(ev.structure), "precedent": "",
        }), {ev.userId})

    async def habilitation_changed(self, env: Envelope, ev: _GrantEvent) -> None:
        """Coalesced: changes of one user within the digest window make one message."""
        change = {
            "kind": env.event_type.rpartition(".")[2], "structure": ev.structure,
            "codeService": ev.codeService, "application": ev.application.value,
            "mode": ev.mode.value, "at": env.occurred_at,
            "previousMode": ev.previousMode.value if isinstance(ev, HabilitationChanged)
            else None,
            "correlationId": env.correlation_id,
        }
        await self._digests.add(ev.userId, str(env.event_id), change, datetime.now(UTC))

    async def invoice_status_changed(self, env: Envelope, ev: InvoiceStatusChanged) -> None:
        """The supplier on suspension, rejection, à recycler and (when the recipient shows it)
        mise en paiement; the recipient's readers of the invoice's service on completion."""
        if ev.statut in compose.SUPPLIER_TOLD and ev.visibleFournisseur:
            await self._caught_up(env.occurred_at)
            users = await self._org.invoice_issuers(ev.fournisseur)
            draft = compose.invoice_status_for_supplier(ev, await self._label(ev.fournisseur))
            draft.context["lien"] = self._n.link(f"/factures-emises/{ev.invoiceId}")
            await self._tell(env, draft, users)
        elif ev.statut is InvoiceStatus.COMPLETEE:
            await self._caught_up(env.occurred_at)
            users = await self._org.invoice_readers(ev.destinataire, ev.codeService)
            draft = compose.invoice_completed(ev, await self._label(ev.destinataire))
            draft.context["lien"] = self._n.link(f"/factures-recues/{ev.invoiceId}")
            await self._tell(env, draft, users)

    async def verification_requested(self, env: Envelope, ev: UserVerificationRequested) -> None:
        # The usable link is asked of identity when the mail is sent, and put in the mail only:
        # what is stored here says where it goes (LINK_PLACEHOLDER) and which link (linkId).
        draft = Draft(Category.SECURITE_COMPTE, compose.PURPOSE_TEMPLATES[ev.purpose], {
            "salutation": compose.greeting(ev.prenom), "lien": compose.LINK_PLACEHOLDER,
            "expiration": ev.expiresAt.strftime("%d/%m/%Y à %H:%M UTC"),
        })
        # The address being verified is the one in the event, whatever the profile says.
        await self._n.notify(str(env.event_id), Origin.of(env), draft, {ev.userId},
                             to=ev.contactEmail, link_id=ev.linkId)
