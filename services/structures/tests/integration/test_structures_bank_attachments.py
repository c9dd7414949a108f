"""Attachments (streamed upload capped at 4 MiB, sniffed type, SHA-256) and bank details
(IBAN + BIC or French RIB, RIB document, factor), over HTTP on the real database."""

import hashlib

import httpx
import pytest

from chorale_contracts import Topic
from chorale_structures.domain import MAX_ATTACHMENT_BYTES

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.4\n" + b"0" * 2000 + b"\n%%EOF\n"


async def _upload(api, siret, name="rib.pdf", data=PDF):
    response = await api.client.post(
        f"/v1/structures/{siret}/pieces-jointes", files={"fichier": (name, data, "text/html")},
        headers=api.operator(),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_upload_list_download_delete(api):
    siret = await api.create_private("gp-files")
    added = await _upload(api, siret, name="../../Relevé d'identité.pdf")
    assert added["nom"] == "Releve_d_identite.pdf"
    assert added["typeContenu"] == "application/pdf"  # sniffed, not the client's text/html
    assert (added["taille"], added["sha256"]) == (len(PDF), hashlib.sha256(PDF).hexdigest())
    listed = await api.client.get(f"/v1/structures/{siret}/pieces-jointes",
                                  headers=api.operator())
    assert [a["idPieceJointe"] for a in listed.json()["listePiecesJointes"]] == [
        added["idPieceJointe"]
    ]
    url = f"/v1/structures/{siret}/pieces-jointes/{added['idPieceJointe']}"
    downloaded = await api.client.get(url, headers=api.operator())
    assert downloaded.content == PDF
    assert downloaded.headers["content-type"] == "application/pdf"
    assert "Releve_d_identite.pdf" in downloaded.headers["content-disposition"]
    other = await api.create_private("gp-other-files")
    elsewhere = await api.client.get(
        f"/v1/structures/{other}/pieces-jointes/{added['idPieceJointe']}", headers=api.operator()
    )
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "ATTACHMENT_NOT_FOUND")
    deleted = await api.client.delete(url, headers=api.operator())
    assert deleted.status_code == 204
    gone = await api.client.get(url, headers=api.operator())
    assert gone.status_code == 404
    assert await api.db["attachment_contents"].find_one({"_id": added["idPieceJointe"]}) is None
    events = await api.events_of(Topic.STRUCTURES, siret, lambda evs: len(evs) >= 3)
    assert [e.event_type for e in events] == [
        "structure.created", "structure.attachment_added", "structure.attachment_deleted"
    ]
    assert events[1].payload["sha256"] == added["sha256"]


async def test_empty_or_missing_file_is_refused(api):
    siret = await api.create_private("gp-empty")
    empty = await api.client.post(f"/v1/structures/{siret}/pieces-jointes",
                                  files={"fichier": ("vide.pdf", b"")}, headers=api.operator())
    assert (empty.status_code, empty.json()["code"]) == (422, "ATTACHMENT_EMPTY")
    no_file = await api.client.post(f"/v1/structures/{siret}/pieces-jointes",
                                    data={"commentaire": "rien"}, headers=api.operator())
    assert (no_file.status_code, no_file.json()["code"]) == (422, "VALIDATION_FAILED")
    not_multipart = await api.client.post(f"/v1/structures/{siret}/pieces-jointes",
                                          content=b"abc", headers=api.operator())
    assert not_multipart.json()["code"] == "VALIDATION_FAILED"


async def test_exactly_four_megabytes_is_accepted(api):
    siret = await api.create_private("gp-limit")
    data = b"%PDF-1.7\n" + b"x" * (MAX_ATTACHMENT_BYTES - 9)
    added = await _upload(api, siret, data=data)
    assert added["taille"] == MAX_ATTACHMENT_BYTES


async def test_an_oversized_upload_is_refused_without_reading_it_all(api):
    """A chunked body (no Content-Length) of 64 MiB: refused once 4 MiB of file are read.
    Sent through the ASGI interface so that the test counts what the service pulled."""
    siret = await api.create_private("gp-large")
    pulled = 0
    boundary = "limite"

    async def body():
        nonlocal pulled
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"fichier\"; "
                f"filename=\"gros.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
        yield head
        for _ in range(1024):  # 1024 x 64 KiB = 64 MiB
            pulled += 64 * 1024
            yield b"%" * (64 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    transport = httpx.ASGITransport(app=api.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://structures") as client:
        response = await client.post(
            f"/v1/structures/{siret}/pieces-jointes", content=body(),
            headers={**api.operator(),
                     "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
    assert (response.status_code, response.json()["code"]) == (413, "ATTACHMENT_TOO_LARGE")
    assert pulled <= MAX_ATTACHMENT_BYTES + 2 * 64 * 1024
    assert await api.db["attachments"].count_documents({"identifiant": siret}) == 0


async def test_a_declared_oversized_length_is_refused_before_reading(api):
    siret = await api.create_private("gp-declared")
    response = await api.client.post(
        f"/v1/structures/{siret}/pieces-jointes",
        files={"fichier": ("gros.pdf", b"%PDF" + b"0" * (MAX_ATTACHMENT_BYTES + 200_000))},
        headers=api.operator(),
    )
    assert (response.status_code, response.json()["code"]) == (413, "ATTACHMENT_TOO_LARGE")
    assert response.json()["message"] == "La pièce jointe dépasse la taille maximale de 4 Mo."


async def test_bank_details_with_iban_or_rib_and_their_document(api):
    siret = await api.create_private("gp-bank")
    document = await _upload(api, siret)
    base = f"/v1/structures/{siret}/coordonnees-bancaires"
    iban = await api.client.post(base, headers=api.operator(), json={
        "nom": "Compte principal", "type": "IBAN", "iban": "DE89 3704 0044 0532 0130 00",
        "bic": "COBADEFFXXX", "idPieceJointe": document["idPieceJointe"],
        "affactureur": {"raisonSociale": "Factor SA", "pays": "FR",
                        "identifiant": "35600000000048", "typeIdentifiant": "SIRET"},
    })
    assert iban.status_code == 201, iban.text
    assert (iban.json()["iban"], iban.json()["pays"]) == ("DE89370400440532013000", "DE")
    rib = await api.client.post(base, headers=api.operator(), json={
        "nom": "RIB", "type": "RIB", "codeBanque": "30004", "codeGuichet": "00550",
        "numeroCompte": "00012345678", "cleRib": "40", "idPieceJointe": document["idPieceJointe"],
    })
    assert rib.status_code == 201, rib.text
    assert rib.json()["iban"] == "FR7630004005500001234567840"
    for body, code in (
        ({"nom": "x", "type": "IBAN", "iban": "FR7630006000011234567890188", "bic": "BNPAFRPP",
          "idPieceJointe": document["idPieceJointe"]}, "IBAN_INVALID"),
        ({"nom": "x", "type": "IBAN", "iban": "DE89370400440532013000", "bic": "BNP",
          "idPieceJointe": document["idPieceJointe"]}, "BIC_INVALID"),
        ({"nom": "x", "type": "RIB", "codeBanque": "30004", "codeGuichet": "00550",
          "numeroCompte": "00012345678", "cleRib": "00",
          "idPieceJointe": document["idPieceJointe"]}, "RIB_KEY_INVALID"),
        ({"nom": "x", "type": "IBAN", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX"},
         "BANK_DETAILS_INCOMPLETE"),
        ({"nom": "x", "type": "IBAN", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX",
          "idPieceJointe": "inconnue"}, "BANK_DETAILS_INCOMPLETE"),
    ):
        refused = await api.client.post(base, json=body, headers=api.operator())
        assert (refused.status_code, refused.json()["code"]) == (422, code), refused.text
    bank_id = iban.json()["idCoordonneeBancaire"]
    updated = await api.client.patch(f"{base}/{bank_id}", json={"nom": "Compte courant"},
                                     headers=api.operator())
    assert (updated.json()["nom"], updated.json()["version"]) == ("Compte courant", 2)
    in_use = await api.client.delete(
        f"/v1/structures/{siret}/pieces-jointes/{document['idPieceJointe']}",
        headers=api.operator(),
    )
    assert (in_use.status_code, in_use.json()["code"]) == (409, "ATTACHMENT_IN_USE")
    off = await api.client.post(f"{base}/{bank_id}/desactivation", headers=api.operator())
    assert off.json()["statut"] == "INACTIF"
    again = await api.client.patch(f"{base}/{bank_id}", json={"nom": "y"}, headers=api.operator())
    assert (again.status_code, again.json()["code"]) == (409, "BANK_DETAILS_INACTIVE")
    listed = await api.client.get(base, headers=api.operator())
    listed_ids = [b["idCoordonneeBancaire"] for b in listed.json()["listeCoordonneesBancaires"]]
    assert bank_id in listed_ids
    events = await api.events_of(
        Topic.STRUCTURES, siret,
        lambda evs: any(e.event_type == "structure.bank_details_deactivated" for e in evs),
    )
    bank_events = [e for e in events if "bank_details" in e.event_type]
    assert bank_events[0].payload["ibanMasked"] == "DE89**************3000"
    assert [e.event_type for e in bank_events if e.payload["bankDetailsId"] == bank_id] == [
        "structure.bank_details_added", "structure.bank_details_updated",
        "structure.bank_details_deactivated",
    ]
