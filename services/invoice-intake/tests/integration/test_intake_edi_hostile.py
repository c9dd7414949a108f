"""Hostile files dropped in the EDI folder end IN_REJETE with the right flow-level code, in
bounded time and memory, and never reach anything outside the archive."""

from __future__ import annotations

import io
import zipfile

import pytest

from chorale_intake.bootstrap import build_app
from chorale_intake.settings import IntakeSettings
from chorale_runtime.testing.kafka_probe import eventually
from chorale_runtime.testing.plugin import settings_for
from chorale_runtime.testing.servers import serve_in_process, wait_ready
from chorale_testkit import hostile_xml as hostile

pytestmark = pytest.mark.integration

MAX_BYTES = 200_000

LAUGHS = hostile.BILLION_LAUGHS


def hostile(kit, secret: str) -> dict[str, tuple[bytes, str]]:
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("facture.xml", kit.invoice())
    text = kit.invoice().decode()
    return {
        "xxe.xml": (
            f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY s SYSTEM "file://{secret}">]><r>&s;</r>'
            .encode(), "XML_FORBIDDEN_DTD"),
        "laughs.xml": (LAUGHS, "XML_FORBIDDEN_DTD"),
        "external-dtd.xml": (b'<?xml version="1.0"?>\n<!DOCTYPE Invoice SYSTEM '
                             b'"http://127.0.0.1:9/x.dtd">\n<Invoice/>', "XML_FORBIDDEN_DTD"),
        "too-large.xml": (kit.invoice(lines=400), "FILE_TOO_LARGE"),
        "deep.xml": (b"<a>" * 5_000 + b"</a>" * 5_000, "XML_MALFORMED"),
        "latin1-as-utf8.xml": (text.replace("Paiement", "Réglement").encode("latin-1"),
                               "XML_MALFORMED"),
        "not-xml.pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF_TRUNCATED"),
        "facture.zip": (zipped.getvalue(), "XML_MALFORMED"),
        "empty.xml": (b"", "EMPTY_FILE"),
        "blank.xml": (b"  \n\t ", "EMPTY_FILE"),
        "json.xml": (b'{"facture": 1}', "XML_MALFORMED"),
        "html.xml": (b"<html><body>facture</body></html>", "SYNTAX_UNKNOWN"),
        "truncated.xml": (kit.invoice(lines=30)[:3000], "XML_MALFORMED"),
        "xsd-invalid.xml": (kit.invoice().replace(b"<cbc:IssueDate>", b"<cbc:IssueDate>x"),
                            "XSD_INVALID"),
    }


async def test_hostile_files_are_rejected_with_their_code(infra, namespace, kit, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    settings = settings_for(IntakeSettings, infra, namespace, edi_root=tmp_path / "edi",
                            archive_dir=tmp_path / "archive", max_bytes=MAX_BYTES,
                            edi_scan_interval=0.05)
    files = hostile(kit, str(secret))
    assert len(files["too-large.xml"][0]) > MAX_BYTES
    async with serve_in_process(build_app(settings)) as base:
        await kit.seed(infra, namespace)
        await wait_ready(base)
        await kit.wait_folder(settings.edi_root, "ta-1")
        for name, (data, _) in files.items():
            kit.drop(settings.edi_root, "ta-1", name, data)
        crs = await kit.wait_terminal(settings.edi_root, "ta-1", files)
    for name, (_, code) in files.items():
        cr = crs[name]
        assert cr["statut"] == "IN_REJETE", name
        assert [e["code"] for e in cr["listeErreurTechnique"]][:1] == [code], (name, cr)
        assert cr["listeErreurDP"] == []
        assert "TOP-SECRET" not in str(cr)
    xsd = crs["xsd-invalid.xml"]["listeErreurTechnique"][0]
    assert xsd["ligne"] is not None and "IssueDate" in xsd["message"]
    assert crs["too-large.xml"]["tailleOctets"] == len(files["too-large.xml"][0])
    archived = sorted(p.stat().st_size for p in (tmp_path / "archive").rglob("FLX*"))
    assert archived == sorted(len(d) for d, _ in files.values())  # raw bytes kept, as sent


async def test_links_under_the_edi_root_are_never_followed(infra, namespace, kit, tmp_path):
    """ta-1 drops a link to an invoice it must not read; ta-2's in/ is a link to a folder of
    invoices and its out/ a link elsewhere. Only ta-1's own file is taken; every link stays."""
    from prometheus_client import REGISTRY

    def refused(where: str) -> float:
        return REGISTRY.get_sample_value("chorale_intake_edi_links_refused_total",
                                         {"service": "invoice-intake", "where": where}) or 0.0

    settings = settings_for(IntakeSettings, infra, namespace, edi_root=tmp_path / "edi",
                            archive_dir=tmp_path / "archive", edi_scan_interval=0.05)
    elsewhere = tmp_path / "autre-partenaire"
    (elsewhere / "in").mkdir(parents=True)
    (elsewhere / "out").mkdir()
    stolen = kit.invoice()
    (elsewhere / "in" / "facture.xml").write_bytes(stolen)
    before = {w: refused(w) for w in ("file", "in", "out")}
    async with serve_in_process(build_app(settings)) as base:
        await kit.seed(infra, namespace, accounts=("ta-1", "ta-2"))
        await wait_ready(base)
        for account in ("ta-1", "ta-2"):
            await kit.wait_folder(settings.edi_root, account)
        ta2 = settings.edi_root / "ta-2"
        for sub in ("in", "out"):
            (ta2 / sub).rmdir()
            (ta2 / sub).symlink_to(elsewhere / sub)
        link = settings.edi_root / "ta-1" / "in" / "vol.xml"
        link.symlink_to(elsewhere / "in" / "facture.xml")
        own = kit.invoice()
        kit.drop(settings.edi_root, "ta-1", "mienne.xml", own)
        crs = await kit.wait_terminal(settings.edi_root, "ta-1", ["mienne.xml"])

        async def links_counted() -> bool:
            return all(refused(w) - before[w] >= 1 for w in ("file", "in"))

        await eventually(links_counted)
    assert crs["mienne.xml"]["statut"] == "IN_INTEGRE"
    assert set(kit.read_crs(settings.edi_root, "ta-1")) == {"mienne.xml"}
    assert link.is_symlink() and (ta2 / "in").is_symlink() and (ta2 / "out").is_symlink()
    assert (elsewhere / "in" / "facture.xml").read_bytes() == stolen
    assert list((elsewhere / "out").iterdir()) == []
    archived = [p.read_bytes() for p in (tmp_path / "archive").rglob("FLX*")]
    assert archived == [own]
