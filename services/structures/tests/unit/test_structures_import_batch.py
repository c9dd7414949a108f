import io
from datetime import UTC, date, datetime

from chorale_structures.adapters.structure_store import StoredStructure
from chorale_structures.domain import RowRejection, iter_import_rows, new_private_structure
from chorale_structures.service_layer.context import Actor
from chorale_structures.service_layer.import_batch import (
    identifiants,
    lookups_needed,
    plan_batch,
)

TODAY = date(2025, 6, 1)
BATCH = "job-1:0"
ACTOR = Actor("operator-1", "corr-import", is_operator=True,
              now=datetime(2025, 6, 1, 8, tzinfo=UTC))
HEADER = "type;identifiant;raisonSociale;ville;statut;codeService;libelle;dateDebutActivation"


def _rows(*lines: str):
    return list(iter_import_rows(io.StringIO("\n".join([HEADER, *lines]) + "\n")))


def test_a_new_structure_and_its_services_make_one_insert_with_one_snapshot():
    rows = _rows(
        "STRUCTURE;20007104100046;CC DU CHAOURCOIS;ERVY;;;;",
        "SERVICE;20007104100046;;;;COMPTA;Comptabilité;2025-01-01",
        "SERVICE;20007104100046;;;INACTIF;MOA;MOA;2025-01-01",
    )
    plan = plan_batch(rows, {}, today=TODAY, actor=ACTOR, batch_id=BATCH)
    assert [r for _, r in plan.results] == ["created", "created", "created"]
    [(stored, envelopes)] = plan.inserts
    assert (stored.version, sorted(stored.services)) == (1, ["COMPTA", "FACTURES_PUBLIQUES", "MOA"])
    assert [e.event_type for e in envelopes] == [
        "structure.created", "structure.service_created", "structure.service_created",
        "structure.service_created", "structure.service_deactivated", "directory.snapshot",
    ]
    assert {e.key for e in envelopes} == {"20007104100046"}
    assert {e.correlation_id for e in envelopes} == {"corr-import"}
    assert envelopes[-1].payload["version"] == 1
    assert len(envelopes[-1].payload["services"]) == 3
    assert plan.updates == []
    assert stored.import_batch == BATCH
    # Planned again (a replay after a stop), the same events get the same ids.
    again = plan_batch(rows, {}, today=TODAY, actor=ACTOR, batch_id=BATCH).inserts[0][1]
    assert [e.event_id for e in again] == [e.event_id for e in envelopes]
    other = plan_batch(rows, {}, today=TODAY, actor=ACTOR, batch_id="job-2:0").inserts[0][1]
    assert not {e.event_id for e in other} & {e.event_id for e in envelopes}


def test_existing_structures_are_compared_and_set_or_left_alone():
    first = plan_batch(_rows("STRUCTURE;20007104100046;CC;ERVY;;;;"), {}, today=TODAY,
                       actor=ACTOR, batch_id=BATCH).inserts[0][0]
    loaded = {first.identifiant: first}
    same = plan_batch(_rows("STRUCTURE;20007104100046;CC;ERVY;;;;"), loaded, today=TODAY,
                      actor=ACTOR, batch_id=BATCH)
    assert ([r for _, r in same.results], same.inserts, same.updates) == (["unchanged"], [], [])
    moved = plan_batch(_rows("STRUCTURE;20007104100046;CC;TROYES;;;;"), loaded, today=TODAY,
                       actor=ACTOR, batch_id=BATCH)
    [(expected, new, envelopes)] = moved.updates
    assert (expected, new.version, new.structure.ville) == (1, 2, "TROYES")
    assert [e.event_type for e in envelopes] == ["structure.updated", "directory.snapshot"]
    assert envelopes[-1].payload["version"] == 2


def test_rejections_keep_their_line_and_the_structure_they_name():
    private = new_private_structure(
        {"identifiant": "35600000000048", "raisonSociale": "La Poste"}, creator_id="u"
    ).state
    loaded = {"35600000000048": StoredStructure(private, {})}
    rows = _rows(
        "STRUCTURE;35600000000048;LA POSTE;PARIS;;;;",
        "SERVICE;35600000000048;;;;COURRIER;Courrier;2025-01-01",
        "SERVICE;20007104100046;;;;COMPTA;Comptabilité;2025-01-01",
        "STRUCTURE;1234;X;;;;;",
    )
    plan = plan_batch(rows, loaded, today=TODAY, actor=ACTOR, batch_id=BATCH)
    results = [(ident, r.line, r.code) for ident, r in plan.results]
    assert results == [
        ("35600000000048", 2, "STRUCTURE_EXISTS"),
        ("35600000000048", 3, "STRUCTURE_EXISTS"),
        ("20007104100046", 4, "STRUCTURE_NOT_FOUND"),
        (None, 5, "SIRET_INVALID"),
    ]
    assert all(isinstance(r, RowRejection) for _, r in plan.results)
    assert (plan.inserts, plan.updates) == ([], [])
    assert identifiants(rows) == {"35600000000048", "20007104100046"}


def test_only_service_lines_without_their_structure_line_need_a_lookup():
    rows = _rows(
        "SERVICE;35600000000048;;;;COURRIER;Courrier;2025-01-01",
        "STRUCTURE;20007104100046;CC;ERVY;;;;",
        "SERVICE;20007104100046;;;;COMPTA;Comptabilité;2025-01-01",
    )
    assert lookups_needed(rows) == {"35600000000048"}
