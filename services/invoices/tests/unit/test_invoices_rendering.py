"""The readable rendering of an invoice: parties, lines, VAT breakdown, totals, in UBL and CII
(sample files of the intake's generator); hostile or unsupported files are refused."""

from __future__ import annotations

from datetime import date

import pytest

from chorale_invoices.domain.errors import InvoiceError
from chorale_invoices.domain.rendering import render
from chorale_testkit.invoices import make_invoice


@pytest.mark.parametrize("syntax", ["IN_DP_E1_UBL_INVOICE", "IN_DP_E1_CII_16B"])
def test_parties_lines_vat_and_totals(syntax: str) -> None:
    data = make_invoice(syntax, buyer_siret="21000000000013", supplier_siret="73282932000074",
                        number="F-2026-7", issue_date=date(2026, 12, 1), service_code="S1",
                        lines=3, supplier_name="Fournitures Dupont SARL")
    shown = render(data)
    assert shown["numero"] == "F-2026-7" and shown["dateEmission"] == "2026-12-01"
    assert shown["vendeur"]["identifiant"] == "73282932000074"
    assert shown["vendeur"]["nom"] == "Fournitures Dupont SARL"
    assert shown["acheteur"]["identifiant"] == "21000000000013"
    assert shown["codeService"] == "S1"
    assert len(shown["lignes"]) == 3 and all(line["designation"] for line in shown["lignes"])
    assert {"quantite", "prixUnitaireHT", "montantHT", "tauxTva"} <= set(shown["lignes"][0])
    [vat] = shown["ventilationTva"]
    total = shown["totaux"]
    assert vat["categorie"] == "S" and float(vat["montantTva"]) == float(total["totalTva"])
    lines_total = sum(float(line["montantHT"]) for line in shown["lignes"])
    assert float(total["totalHT"]) == pytest.approx(lines_total)
    assert float(total["totalTTC"]) == pytest.approx(lines_total + float(total["totalTva"]))


@pytest.mark.parametrize(("data", "reason"), [
    (b"%PDF-1.7 ...", "Factur-X"),
    (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e 'x'>]><x>&e;</x>", "DOCTYPE"),
    (b"<autre/>", "syntaxe inconnue"),
    (b"<pas du xml", "illisible"),
])
def test_unsupported_or_hostile_files_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(InvoiceError) as refused:
        render(data)
    assert refused.value.code == "RENDERING_UNAVAILABLE" and reason in refused.value.message
