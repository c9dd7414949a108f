"""Identity's memory of rattachements and GPs (FerretDB): the lists it answers and the newest
state winning whatever order writes and the start-up load arrive in."""

from datetime import timedelta

from chorale_identity.adapters.gestionnaires import GestionnaireMemory
from chorale_identity.adapters.rattachements import RattachementMemory
from chorale_identity.domain import rattachements as r
from chorale_identity.domain.gestionnaire import GestionnairePrincipal, GpOrigin


def test_rattachements_by_structure_and_user_the_newest_state_wins(now):
    memory = RattachementMemory()
    asked = r.request_rattachement(user_id="u1", identifiant_structure="S1", now=now,
                                   existing=()).state
    approved = r.approve(asked, decided_by="gp", now=now + timedelta(seconds=1)).state
    other = r.request_rattachement(user_id="u2", identifiant_structure="S2", now=now,
                                   existing=()).state
    memory.put(approved)
    memory.put(asked)  # the start-up load read it before the approval: ignored
    memory.put(other)
    assert [x.status for x in memory.of_structures(["S1"])] == [r.RattachementStatus.VALIDEE]
    assert {x.user_id for x in memory.of_structures(["S1", "S2", "S3"])} == {"u1", "u2"}
    assert memory.of_user("u1", None) == [approved]
    assert memory.of_user("u1", "S2") == [] and memory.of_user("nobody", None) == []


def test_gestionnaires_by_user_follow_a_transfer(now):
    memory = GestionnaireMemory()
    first = GestionnairePrincipal(identifiant_structure="S1", user_id="a",
                                  origin=GpOrigin.CREATEUR, designated_by=None, since=now)
    moved = first.model_copy(update={"user_id": "b", "version": 2})
    memory.put(first)
    memory.put(GestionnairePrincipal(identifiant_structure="S2", user_id="a",
                                     origin=GpOrigin.CREATEUR, designated_by=None, since=now))
    memory.put(moved)
    memory.put(first)  # an older state arriving late changes nothing
    assert memory.structures_of("a") == ["S2"] and memory.structures_of("b") == ["S1"]
