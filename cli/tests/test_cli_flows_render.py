"""`chorale flows` rendering (cli/src/chorale_cli/flows_render.py), pure functions."""

from datetime import UTC, datetime

from rich.console import Console

from chorale_cli.flows_render import (
    FlowRow,
    format_row,
    header,
    render_detail,
    render_stats,
)

EVENT = {
    "event_type": "flow.status_changed",
    "occurred_at": "2026-11-26T08:00:03.120000Z",
    "payload": {
        "numeroFluxDepot": "FLX-20261126-0001", "structurePartenaire": "44306184100047",
        "nomFichier": "une-facture-au-nom-vraiment-tres-long.xml", "statut": "IN_REJETE",
        "erreurs": [{"code": "XSD_INVALID", "message": "m"}, {"code": "XSD_INVALID",
                                                              "message": "m2"},
                    {"code": "RECIPIENT_UNKNOWN", "message": "m3"}],
    },
}


def test_a_row_per_status_change_with_truncated_file_and_distinct_codes():
    row = FlowRow.from_event(EVENT)
    assert row is not None
    line = format_row(row, color=False)
    assert line.startswith("2026-11-26 08:00:03 FLX-20261126-0001      44306184100047")
    assert "une-facture-au-nom-vraiment…" in line
    assert line.endswith("IN_REJETE                XSD_INVALID, RECIPIENT_UNKNOWN")
    assert len(header(color=False).split("STATUT")[0]) == len(line.split("IN_REJETE")[0])


def test_colour_marks_the_status_and_errors_and_escapes_values():
    row = FlowRow(datetime(2026, 1, 1, tzinfo=UTC), "N", "P", "[evil].xml", "IN_INTEGRE")
    marked = format_row(row)
    assert "[bold green]IN_INTEGRE" in marked and "\\[evil].xml" in marked
    console = Console(record=True, width=200, color_system="truecolor")
    console.print(marked)
    assert "[evil].xml" in console.export_text()


def test_other_events_are_skipped_and_filters_apply():
    assert FlowRow.from_event({"event_type": "invoice.deposited", "payload": {}}) is None
    row = FlowRow.from_event(EVENT)
    assert row.matches(None, None) and row.matches("44306184100047", ["in_rejete"])
    assert not row.matches("1", None) and not row.matches(None, ["IN_INTEGRE"])


def test_detail_lists_scalars_and_both_error_lists():
    text = render_detail({
        "numeroFluxDepot": "FLX-1", "statut": "IN_REJETE",
        "listeErreurTechnique": [{"code": "XSD_INVALID", "message": "m", "ligne": 3,
                                  "chemin": "/Invoice"}],
        "listeErreurDP": [{"codeErreur": "DUPLICATE_INVOICE", "libelleErreur": "déjà",
                           "numeroFacture": "F-1"}],
    })
    assert "numeroFluxDepot  FLX-1" in text
    assert "  - XSD_INVALID: m (ligne=3 chemin=/Invoice)" in text
    assert "  - DUPLICATE_INVOICE: déjà (numeroFacture=F-1)" in text


def test_stats_tables():
    text = render_stats({
        "granularite": "jour", "partenaire": None, "statuts": ["IN_RECU", "IN_REJETE"],
        "series": [{"debut": "2026-11-26T00:00:00Z", "parStatut": {"IN_RECU": 3,
                                                                  "IN_REJETE": 1}, "total": 4}],
        "parPartenaire": [{"partenaire": "P1", "parStatut": {"IN_RECU": 3}, "total": 3}],
        "codesRejet": [{"code": "XSD_INVALID", "nombre": 1}],
    })
    lines = text.splitlines()
    assert lines[0] == "Flux par statut, par jour"
    assert lines[2].split() == ["2026-11-26T00:00:00", "3", "1", "4"]
    assert "P1" in text and lines[-1] == "Codes de rejet : XSD_INVALID ×1"
