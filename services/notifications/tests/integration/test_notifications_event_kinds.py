"""Each kind of event reaches the right people's mailboxes, through a real SMTP server, with
the expected subject and content: upstream events are published to Kafka by the test."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chorale_contracts.events.common import StatutStructure, TypeIdentifiant, TypeStructure
from chorale_contracts.events.directory import DirectoryParameters, DirectorySnapshot
from chorale_contracts.events.flows import FlowError, FlowStatusChanged
from chorale_contracts.events.identity import (
    GestionnaireDesignated,
    GestionnaireTransferred,
    RattachementApproved,
    RattachementInvited,
    RattachementRefused,
    RattachementRequested,
    UserVerificationRequested,
)
from chorale_contracts.events.invoices import InvoiceMadeAvailable
from chorale_runtime.testing.kafka_probe import eventually

from .conftest import email_of, made_available

pytestmark = pytest.mark.integration

COMMUNE = "21750001600019"
PARTNER = "44306184100047"


def snapshot(siret: str, name: str, public: bool = True) -> DirectorySnapshot:
    return DirectorySnapshot(
        identifiant=siret, typeIdentifiant=TypeIdentifiant.SIRET,
        typeStructure=TypeStructure.PUBLIQUE if public else TypeStructure.PRIVEE,
        statut=StatutStructure.ACTIVE, raisonSociale=name, parametres=DirectoryParameters(),
        services=[], version=1,
    )


def invoice(number: str, code_service: str | None) -> InvoiceMadeAvailable:
    return made_available(number, COMMUNE, code_service, invoiceId=str(uuid.uuid4()),
                          raisonSocialeFournisseur="Fournitures Dupont SA",
                          montantTTC=Decimal("1200.50"), devise="EUR")


async def seed_organisation(publish) -> None:
    for uid, prenom in [("gp", "Gaëlle"), ("orga", "Octave"), ("orga-s1", "Sixtine"),
                        ("demandeur", "Denis"), ("refuse", "Rémi"), ("nouveau-gp", "Noé"),
                        ("fr", "Fanny"), ("fr-s1", "Firmin"), ("fr-s2", "Fabien"),
                        ("fournisseur", "Paul"), ("autre", "Anne")]:
        await publish.user(uid, prenom=prenom, nom="Martin")
    await publish(snapshot(COMMUNE, "Commune de Testville"), COMMUNE)
    await publish(snapshot(PARTNER, "Fournitures Dupont SA", public=False), PARTNER)
    await publish(GestionnaireDesignated(structure=COMMUNE, userId="gp"), COMMUNE)
    await publish.grant("orga", COMMUNE, "ORGANISATION", "MODIFICATION")
    await publish.grant("orga-s1", COMMUNE, "ORGANISATION", "MODIFICATION", "S1")
    await publish.grant("autre", COMMUNE, "ORGANISATION", "CONSULTATION")
    await publish.grant("fr", COMMUNE, "FACTURES_RECUES", "CONSULTATION")
    await publish.grant("fr-s1", COMMUNE, "FACTURES_RECUES", "MODIFICATION", "S1")
    await publish.grant("fr-s2", COMMUNE, "FACTURES_RECUES", "CONSULTATION", "S2")
    await publish(RattachementApproved(rattachementId="r-four", userId="fournisseur",
                                       structure=PARTNER, decidedBy="gp-partner", direct=True),
                  "r-four")


def subjects(smtp, uid: str) -> list[str]:
    return [m.subject for m in smtp.catcher.to(email_of(uid))]


async def mail(smtp, uid: str, starts: str, timeout: float = 60):
    async def found():
        return next((m for m in smtp.catcher.to(email_of(uid)) if m.subject.startswith(starts)),
                    None)
    return await eventually(found, timeout=timeout)


async def test_each_event_kind_mails_the_right_people(publish, smtp, notifications,
                                                      identity_links):
    async with notifications():
        await seed_organisation(publish)

        # rattachement requested on service S1 → GP + Organisation/modification holders at the
        # structure level and at S1 (not the consultation holder, not the requester)
        await publish(RattachementRequested(rattachementId="r-1", userId="demandeur",
                                            structure=COMMUNE, codeService="S1",
                                            commentaire="Nouvel agent comptable"), "r-1")
        for uid in ("gp", "orga", "orga-s1"):
            m = await mail(smtp, uid, "Demande de rattachement à valider")
            assert "Commune de Testville" in m.subject
            assert "Denis Martin (demandeur@mail.test)" in m.text
            assert "Nouvel agent comptable" in m.text and "service S1" in m.text
            assert "https://portail.test/approbations" in m.text

        # approved / refused → the requester
        await publish(RattachementApproved(rattachementId="r-1", userId="demandeur",
                                           structure=COMMUNE, codeService="S1", decidedBy="gp",
                                           commentaire="Bienvenue"), "r-1")
        await publish(RattachementRefused(rattachementId="r-2", userId="refuse",
                                          structure=COMMUNE, decidedBy="gp",
                                          commentaire="Inconnu du service"), "r-2")
        # invitation → the invited person only, with the link to answer it
        await publish(RattachementInvited(rattachementId="r-3", userId="autre",
                                          structure=COMMUNE, invitedBy="gp",
                                          commentaire="Rejoignez-nous"), "r-3")
        invited = await mail(smtp, "autre", "Invitation à rejoindre Commune de Testville")
        assert "Gaëlle Martin vous invite" in invited.text and "Rejoignez-nous" in invited.text
        assert "https://portail.test/mon-compte/invitations" in invited.text
        ok = await mail(smtp, "demandeur", "Rattachement validé")
        assert "Commune de Testville" in ok.text and "Bienvenue" in ok.text
        no = await mail(smtp, "refuse", "Rattachement refusé")
        assert "Motif : Inconnu du service" in no.text

        # GP designated (by the seed) → the designated user
        designated = await mail(smtp, "gp", "Vous êtes gestionnaire principal")
        assert "Commune de Testville (21750001600019)" in designated.subject

        # GP transferred → both users
        await publish(GestionnaireTransferred(structure=COMMUNE, fromUserId="gp",
                                              toUserId="nouveau-gp"), COMMUNE)
        ceded = await mail(smtp, "gp", "Rôle de gestionnaire principal transféré")
        assert "Noé Martin" in ceded.text
        taken = await mail(smtp, "nouveau-gp", "Vous êtes gestionnaire principal")
        assert "Gaëlle Martin" in taken.text

        # habilitations → the user concerned, the grants of the seed coalesced per user
        hab = await mail(smtp, "fr-s1", "Vos habilitations ont changé")
        assert "« Factures reçues » en modification" in hab.text and "service S1" in hab.text

        # flow rejected → users attached to the partner structure, with codes and messages
        await publish(FlowStatusChanged(
            numeroFluxDepot="FLX-REJ-1", statut="IN_REJETE",
            statutPrecedent="IN_EN_COURS_TRAITEMENT", canal="API", technicalAccountId="ta-1",
            structurePartenaire=PARTNER, nomFichier="facture-42.xml",
            dateDepot=datetime(2026, 11, 3, 9, 30, tzinfo=UTC),
            erreurs=[FlowError(code="XSD_INVALID", message="Élément inattendu", level="FLUX",
                               ligne=12)],
        ), "FLX-REJ-1")
        rej = await mail(smtp, "fournisseur", "Flux rejeté : FLX-REJ-1")
        assert "facture-42.xml" in rej.subject
        assert "XSD_INVALID — Élément inattendu" in rej.text
        assert "https://portail.test/suivi-des-flux/FLX-REJ-1" in rej.text

        # invoice made available on S1 → structure-level and S1 holders of Factures reçues
        await publish(invoice("F-2026-001", "S1"), "inv-1")
        for uid in ("fr", "fr-s1"):
            m = await mail(smtp, uid, "Nouvelle facture reçue : F-2026-001")
            assert "Fournitures Dupont SA" in m.subject
            assert "1200.50 EUR" in m.text and "Commune de Testville" in m.text

        # verification link → the contact e-mail in the event, even with no account yet
        await publish(UserVerificationRequested(
            userId="inconnu", purpose="PASSWORD_RESET", contactEmail="perdu@mail.test",
            prenom="Lou", linkId="lien-abc123",
            expiresAt=datetime.now(UTC) + timedelta(hours=1),
        ), "inconnu")
        await eventually(lambda: smtp.catcher.to("perdu@mail.test"), timeout=30)
        reset = smtp.catcher.to("perdu@mail.test")[0]
        assert reset.subject == "Réinitialisation de votre mot de passe"
        [token] = identity_links.minted["lien-abc123"]  # minted by identity at sending time
        link = f"https://portail.test/compte/verification?token={token}"
        assert link in reset.text and f'href="{link}"' in reset.html

        # nobody else was told: consultation holder, other service, requester of the request
        await publish(invoice("F-2026-002", None), "inv-2")
        await mail(smtp, "fr", "Nouvelle facture reçue : F-2026-002")
    assert not any(s.startswith("Demande de rattachement") for s in subjects(smtp, "autre"))
    assert not any(s.startswith("Demande de rattachement") for s in subjects(smtp, "demandeur"))
    assert not any("F-2026-001" in s for s in subjects(smtp, "fr-s2"))
    assert not any("F-2026-002" in s for s in subjects(smtp, "fr-s1"))
    assert not any(s.startswith("Flux rejeté") for s in subjects(smtp, "gp"))
    # one Message-ID per mail, stable form
    ids = [m.message_id for m in smtp.catcher.messages]
    assert len(ids) == len(set(ids)) and all(i.endswith("@chorale.local>") for i in ids)
