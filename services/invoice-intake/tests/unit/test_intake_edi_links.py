"""No symbolic link under the EDI root is ever followed: a partner who can create links (SFTP
allows it) must not read another partner's invoices through them, nor make the intake write its
CRs elsewhere. Each link is left where it is, logged and counted once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from chorale_intake.adapters import archive as archive_module
from chorale_intake.adapters.archive import Archive, Move
from chorale_intake.adapters.edi_folders import EdiFolders, LinkRefused

SECRET = b"<Invoice>facture de l'autre partenaire</Invoice>"


def refused(where: str) -> float:
    return REGISTRY.get_sample_value(
        "chorale_intake_edi_links_refused_total", {"service": "invoice-intake", "where": where}
    ) or 0.0


@pytest.fixture
def edi(tmp_path: Path) -> EdiFolders:
    """Two partners: `ta` (the attacker) and `victim`, whose in/ holds an invoice."""
    root = tmp_path / "edi"
    root.mkdir()
    folders = EdiFolders(root, settle_delay=0)
    for account in ("ta", "victim"):
        folders.ensure(account)
    (folders.inbox("victim") / "facture.xml").write_bytes(SECRET)
    return folders


@pytest.fixture
def archive(tmp_path: Path, edi: EdiFolders) -> Archive:
    archive = Archive(tmp_path / "archive", "i1", edi)
    archive.prepare()
    return archive


def move_of(edi: EdiFolders, account: str, name: str) -> Move:
    return Move("FLX1", account, "7328", name, str(edi.inbox(account) / name),
                "2024/06/14/FLX1", "2024-06-14T09:30:00+00:00")


def archived(archive: Archive) -> list[Path]:
    return [p for p in archive.root.rglob("*") if p.is_file() and ".journal" not in p.parts]


def assert_victim_untouched(edi: EdiFolders) -> None:
    assert (edi.inbox("victim") / "facture.xml").read_bytes() == SECRET


def test_a_file_linking_to_another_partners_file_is_left_and_counted_once(edi, archive):
    link = edi.inbox("ta") / "vol.xml"
    link.symlink_to(edi.inbox("victim") / "facture.xml")
    (edi.inbox("ta") / "mienne.xml").write_bytes(b"<Invoice/>")
    before = refused("file")
    with capture_logs() as logs:
        names = {c.name for c in edi.candidates("ta", 100)}
        edi.candidates("ta", 100)  # a second scan: already reported
    assert names == {"mienne.xml"}
    assert refused("file") - before == 1
    assert [entry["fichier"] for entry in logs if entry["event"] == "edi_link_refused"] == [
        "vol.xml"]
    # Even named explicitly (a journal, a stale candidate), it is neither read nor moved.
    _, [result] = archive.move_in([move_of(edi, "ta", "vol.xml")])
    assert isinstance(result, LinkRefused)
    assert link.is_symlink() and archived(archive) == []
    assert_victim_untouched(edi)


def test_a_link_removed_then_put_back_is_reported_again(edi):
    link = edi.inbox("ta") / "vol.xml"
    link.symlink_to(edi.inbox("victim") / "facture.xml")
    before = refused("file")
    edi.candidates("ta", 100)
    link.unlink()
    edi.candidates("ta", 100)
    link.symlink_to(edi.inbox("victim") / "facture.xml")
    edi.candidates("ta", 100)
    assert refused("file") - before == 2


def test_an_in_folder_that_is_a_link_is_never_scanned_nor_taken_from(edi, archive):
    inbox = edi.inbox("ta")
    inbox.rmdir()
    inbox.symlink_to(edi.inbox("victim"))  # ta/in -> victim/in
    before = refused("in")
    assert edi.candidates("ta", 100) == []
    assert edi.count_waiting("ta") == 0
    assert refused("in") - before == 1
    _, [result] = archive.move_in([move_of(edi, "ta", "facture.xml")])
    assert isinstance(result, LinkRefused)
    assert archived(archive) == [] and inbox.is_symlink()
    assert_victim_untouched(edi)


def test_an_account_folder_that_is_a_link_is_left_alone(edi, tmp_path):
    account = edi.root / "ta"
    for sub in ("in", "out"):
        (account / sub).rmdir()
    account.rmdir()
    account.symlink_to(edi.root / "victim")  # ta -> victim
    before = refused("account")
    edi.ensure("ta")  # on start / when the account is activated: no error, nothing created
    assert edi.candidates("ta", 100) == []
    with pytest.raises(LinkRefused):
        edi.write_cr("ta", "FLX1", b'{"statut": "IN_INTEGRE"}')
    assert refused("account") - before == 1
    assert os.listdir(edi.outbox("victim")) == [] and account.is_symlink()
    assert_victim_untouched(edi)


def test_crs_are_never_written_through_an_out_link(edi, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outbox = edi.outbox("ta")
    outbox.rmdir()
    outbox.symlink_to(elsewhere)
    before = refused("out")
    with pytest.raises(LinkRefused):
        edi.write_cr("ta", "FLX1", b'{"statut": "IN_INTEGRE"}')
    assert os.listdir(elsewhere) == [] and outbox.is_symlink()
    assert refused("out") - before == 1


def test_a_cr_replaces_links_planted_at_its_names_without_following_them(edi, tmp_path):
    target = tmp_path / "victim.txt"
    target.write_bytes(b"intact")
    outbox = edi.outbox("ta")
    (outbox / "FLX1.cr.json").symlink_to(target)
    (outbox / ".FLX1.cr.json.tmp").symlink_to(target)
    edi.write_cr("ta", "FLX1", b'{"statut": "IN_INTEGRE"}')
    cr = outbox / "FLX1.cr.json"
    assert not cr.is_symlink() and b"IN_INTEGRE" in cr.read_bytes()
    assert target.read_bytes() == b"intact"


def test_a_file_swapped_for_a_link_after_the_scan_is_not_read(edi, archive, monkeypatch):
    own = edi.inbox("ta") / "facture.xml"
    own.write_bytes(b"<Invoice>la mienne</Invoice>")
    [candidate] = edi.candidates("ta", 100)
    # The swap, right after the scan: the scanned name now links to the victim's invoice.
    own.unlink()
    own.symlink_to(edi.inbox("victim") / "facture.xml")
    before = refused("file")
    _, [result] = archive.move_in([move_of(edi, "ta", candidate.entry)])
    assert isinstance(result, LinkRefused)
    assert own.is_symlink() and archived(archive) == []
    assert refused("file") - before == 1
    assert_victim_untouched(edi)


def test_a_file_swapped_between_the_open_and_the_rename_is_given_back(edi, archive,
                                                                      monkeypatch):
    own = edi.inbox("ta") / "facture.xml"
    own.write_bytes(b"<Invoice>la mienne</Invoice>")
    [candidate] = edi.candidates("ta", 100)
    real_open = archive_module.open_regular_file

    def open_then_swap(name, parent_fd):
        fd = real_open(name, parent_fd)
        os.rename(own, own.with_name("gardee.xml"))  # the race: swapped once opened
        own.symlink_to(edi.inbox("victim") / "facture.xml")
        return fd

    monkeypatch.setattr(archive_module, "open_regular_file", open_then_swap)
    before = refused("swapped")
    _, [result] = archive.move_in([move_of(edi, "ta", candidate.entry)])
    assert isinstance(result, LinkRefused)
    assert own.is_symlink() and os.readlink(own) == str(edi.inbox("victim") / "facture.xml")
    assert archived(archive) == []
    assert refused("swapped") - before == 1
    assert_victim_untouched(edi)


def test_a_regular_file_is_still_archived_from_the_descriptor_opened(edi, archive):
    (edi.inbox("ta") / "facture.xml").write_bytes(b"<Invoice/>")
    [candidate] = edi.candidates("ta", 100)
    _, [stored] = archive.move_in([move_of(edi, "ta", candidate.entry)])
    assert stored.size == len(b"<Invoice/>")
    assert archive.path_of(stored.relative).read_bytes() == b"<Invoice/>"
    assert os.listdir(edi.inbox("ta")) == []


def test_folders_are_created_even_before_the_root_exists(tmp_path):
    folders = EdiFolders(tmp_path / "pas-encore" / "edi", settle_delay=0)
    folders.ensure("ta")
    folders.write_cr("ta", "FLX1", b"{}")
    assert (folders.outbox("ta") / "FLX1.cr.json").read_bytes() == b"{}"
    assert folders.inbox("ta").is_dir()
