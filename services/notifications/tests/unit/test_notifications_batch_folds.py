"""Batches folded in memory: one change per document, replays counted once, versions kept."""

from datetime import UTC, datetime

from chorale_contracts import new_envelope
from chorale_contracts.events import directory, habilitations, identity
from chorale_notifications.domain.read_model_changes import StructureChanges
from chorale_notifications.domain.stats import CountedChange, fold_bucket
from chorale_notifications.entrypoints.subscriptions import fold_read_model_events
from chorale_runtime.consumer import Incoming

AT = datetime(2026, 12, 3, 10, 2, tzinfo=UTC)


def change(offset: int, statut: str = "IN_REJETE", codes=("XSD_INVALID",), source="t|0"):
    return CountedChange(AT, "P", statut, codes, source, offset)


def test_a_bucket_counts_a_batch_once_and_skips_what_its_marks_already_counted():
    inc, marks = fold_bucket([change(5), change(6, "IN_RECU", ()), change(7),
                              change(2, source="t|1")], {"t_0": 5})
    assert inc == {"statuts.IN_RECU": 1, "statuts.IN_REJETE": 2, "codesRejet.XSD_INVALID": 2}
    assert marks == {"t_0": 7, "t_1": 2}
    replayed, _ = fold_bucket([change(6), change(7)], {"t_0": 7})
    assert replayed == {}


def _incoming(payload, offset=0):
    env = new_envelope(payload, key="k", producer="test")
    return Incoming(env, payload, "t", 0, offset)



def test_read_model_events_fold_into_one_change_per_document_in_order():
    grant = dict(grantId="g1", userId="u1", structure="S", codeService=None,
                 application="FACTURES_RECUES", mode="CONSULTATION")
    changes = fold_read_model_events([
        _incoming(identity.UserRegistered(userId="u1", loginEmail="a@x.fr",
                                          contactEmail="a@x.fr", prenom="A", nom="B")),
        _incoming(identity.UserProfileUpdated(userId="u1", contactEmail="c@x.fr",
                                              prenom="A", nom="B")),
        _incoming(habilitations.HabilitationGranted(**grant, version=1)),
        _incoming(habilitations.HabilitationChanged(**{**grant, "mode": "MODIFICATION"},
                                                    previousMode="CONSULTATION", version=2)),
        _incoming(identity.GestionnaireDesignated(structure="S", userId="u1")),
        _incoming(directory.DirectorySnapshot.model_construct(
            identifiant="S", raisonSociale="Ville", version=3)),
    ])
    assert changes.users == {"u1": {"loginEmail": "a@x.fr", "contactEmail": "c@x.fr",
                                    "prenom": "A", "nom": "B", "active": True}}
    [structure] = changes.structures.values()
    assert structure.values == {"gp": "u1"}
    assert structure.grants["g1"]["mode"] == "MODIFICATION"
    assert structure.grants["g1"]["version"] == 2


def test_stored_newer_versions_win_over_a_replayed_batch():
    changes = StructureChanges()
    changes.put_grant("g1", 2, {"mode": "MODIFICATION"})
    changes.put_snapshot("Ancien nom", 3)
    stored = {"grants": {"g1": {"version": 4}}, "directoryVersion": 5}
    assert changes.resolve(stored) == {}
    assert changes.resolve({}) == {"grants.g1": {"mode": "MODIFICATION", "version": 2},
                                   "raisonSociale": "Ancien nom", "directoryVersion": 3}
