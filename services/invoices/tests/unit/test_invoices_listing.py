"""The lists' filters, sort and paging over rows; the CSV export neutralises formulas."""

from __future__ import annotations

import csv
import io

import pytest

from chorale_invoices.domain.errors import InvoiceError
from chorale_invoices.domain.listing import Filters, Row, csv_rows, select
from chorale_invoices.domain.statuses import Status
from chorale_runtime.csv_safe import csv_document


def _row(i: int, **kw: object) -> Row:
    base: dict = dict(
        invoiceId=f"FAC-{i:04d}", numeroFacture=f"F-{i:04d}",
        dateFacture=f"2026-11-{i % 28 + 1:02d}",
        dateDepot=f"2026-12-{i % 28 + 1:02d}", destinataire="D", codeService=f"S{i % 3}",
        numeroEngagement=None, fournisseur=f"FOUR{i % 2}", raisonSocialeFournisseur="Four",
        montantTTC=f"{i * 10}.50", devise="EUR", statut=Status.MISE_A_DISPOSITION,
        dateStatut="2026-12-03T10:00:00+00:00", version=2,
        statuts=(Status.DEPOSEE, Status.MISE_A_DISPOSITION))
    base.update(kw)
    return Row(**base)


ROWS = [_row(i) for i in range(1, 61)]


def test_filters_combine() -> None:
    total, page = select(ROWS, Filters(services=frozenset({"S1"}), fournisseur="FOUR0",
                                       montantMin=100, montantMax=400), size=100)
    expected = [r for r in ROWS if r.codeService == "S1" and r.fournisseur == "FOUR0"
                and 100 <= r.montant <= 400]
    assert total == len(expected) > 0
    assert {r.invoiceId for r in page} == {r.invoiceId for r in expected}


def test_number_prefix_dates_and_status() -> None:
    assert select(ROWS, Filters(numeroFacture="f-001"), size=100)[0] == 10  # F-0010..F-0019
    total, _ = select(ROWS, Filters(dateDepotDebut="2026-12-05", dateDepotFin="2026-12-06"))
    assert total == sum(1 for r in ROWS if "2026-12-05" <= r.dateDepot <= "2026-12-06")
    assert select(ROWS, Filters(statuts=frozenset({Status.REJETEE})))[0] == 0


def test_sort_and_pages_cover_everything_once() -> None:
    seen = []
    for page in (1, 2, 3, 4):
        total, rows = select(ROWS, Filters(), sort="-montantTTC", page=page, size=16)
        seen += rows
    assert total == 60 and len(seen) == 60 and len({r.invoiceId for r in seen}) == 60
    amounts = [r.montant for r in seen]
    assert amounts == sorted(amounts, reverse=True)
    first = select(ROWS, Filters(), sort="numeroFacture", size=3)[1]
    assert [r.numeroFacture for r in first] == ["F-0001", "F-0002", "F-0003"]


def test_unknown_sort_is_refused() -> None:
    with pytest.raises(InvoiceError) as refused:
        select(ROWS, Filters(), sort="motDePasse")
    assert refused.value.code == "SORT_INVALID"


def test_the_supplier_view_filters_on_what_it_sees() -> None:
    paid = _row(1, statut=Status.MISE_EN_PAIEMENT, statuts=(
        Status.MANDATEE, Status.MISE_EN_PAIEMENT))
    hidden = select([paid], Filters(statuts=frozenset({Status.MISE_EN_PAIEMENT})),
                    status_of=lambda r: r.supplier_status(True))
    shown = select([paid], Filters(statuts=frozenset({Status.MANDATEE})),
                   status_of=lambda r: r.supplier_status(True))
    assert hidden[0] == 0 and shown[0] == 1


def test_csv_neutralises_formulas_and_keeps_numbers() -> None:
    rows = [_row(1).public(), {**_row(2).public(), "numeroFacture": "=HYPERLINK(\"x\")",
                               "raisonSocialeFournisseur": "@SUM(A1)", "montantTTC": "-12.50"}]
    data = csv_document(csv_rows(rows)).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(data), delimiter=";"))
    header, second = parsed[0], parsed[2]
    cell = dict(zip(header, second, strict=True))
    assert cell["numeroFacture"] == "'=HYPERLINK(\"x\")"
    assert cell["raisonSocialeFournisseur"] == "'@SUM(A1)"
    assert cell["montantTTC"] == "-12.50"


def test_the_index_moves_a_row_between_buckets_and_keeps_the_newest() -> None:
    from chorale_invoices.adapters.list_index import ListIndex

    index = ListIndex()
    first = _row(1, codeService="S1")
    index.put(first)
    moved = _row(1, codeService="S2", statut=Status.PRISE_EN_CHARGE, version=3)
    index.put(moved)
    index.put(first)  # an older state arriving late changes nothing
    assert list(index.received("D")) == [moved]
    assert list(index.received("D", frozenset({"S1"}))) == []
    assert list(index.received("D", frozenset({"S2"}), frozenset({Status.PRISE_EN_CHARGE}))) \
        == [moved]
    assert list(index.received("D", None, frozenset({Status.MISE_A_DISPOSITION}))) == []
    assert list(index.issued("FOUR1")) == [moved] and len(index) == 1
