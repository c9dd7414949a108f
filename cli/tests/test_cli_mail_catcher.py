"""The development mail catcher stores whole messages only, and the journey's mailbox reads
each once."""

import asyncio
from email.message import EmailMessage
from types import SimpleNamespace

from chorale_cli.journey.env import Mailbox
from chorale_cli.mailcatcher import build


def _message(to: str, subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "ne-pas-repondre@chorale.local", to, subject
    msg.set_content("Bonjour,\nune facture vous attend.\n")
    return msg.as_bytes()


def test_stored_messages_are_listed_and_read_back(tmp_path):
    _, store = build(tmp_path)
    for i in range(3):
        envelope = SimpleNamespace(original_content=_message("Agent@Example.org", f"Facture {i}"),
                                   content=b"")
        assert asyncio.run(store.handle_DATA(None, None, envelope)).startswith("250")
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".eml"] * 3  # nothing partial left

    listed = store.messages()
    assert [m["subject"] for m in listed] == ["Facture 0", "Facture 1", "Facture 2"]
    assert "une facture vous attend" in listed[0]["text"]

    mailbox = Mailbox(tmp_path)
    assert [m.subject for m in mailbox.to("agent@example.org")] == [
        "Facture 0", "Facture 1", "Facture 2"]
    assert mailbox.to("someone@else.org") == []
