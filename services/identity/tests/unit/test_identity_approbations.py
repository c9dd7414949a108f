import csv
import io
from datetime import UTC, datetime, timedelta

from chorale_identity.domain import approbations as ap
from chorale_identity.domain import rattachements as r
from chorale_identity.domain.rattachements import RattachementStatus as S
from chorale_identity.service_layer.approbations import as_csv

SIRET = "13000000000006"


def rows(now):
    pending = r.request_rattachement(
        user_id="u1", identifiant_structure=SIRET, now=now, existing=(), code_service="SERV1"
    ).state
    later = now + timedelta(hours=2)
    other = r.request_rattachement(
        user_id="u2", identifiant_structure=SIRET, now=later, existing=()
    ).state
    approved = r.approve(other, decided_by="gp", now=later).state
    names = {"u1": "Jeanne MARTIN", "u2": '=HYPERLINK("http://evil")'}
    return ap.approbation_rows(
        [pending, approved], names.__getitem__, lambda _: "Commune d'Exemple"
    )


def test_rows_have_the_approbations_columns_newest_first(now):
    first, second = rows(now)
    assert first.demandeur.startswith("=HYPERLINK")
    assert second.model_dump(exclude={"id"}) == {
        "etat": S.EN_COURS_DE_VALIDATION,
        "description": "Demande de rattachement au service SERV1",
        "demandeur": "Jeanne MARTIN",
        "structure": SIRET,
        "raisonSociale": "Commune d'Exemple",
        "service": "SERV1",
        "cree": now,
    }
    assert first.description == "Demande de rattachement à la structure"


def test_filter(now):
    all_rows = rows(now)
    assert [x.demandeur for x in ap.filter_rows(all_rows, etats=[S.EN_COURS_DE_VALIDATION])] == [
        "Jeanne MARTIN"
    ]
    assert len(ap.filter_rows(all_rows, texte="martin")) == 1
    assert len(ap.filter_rows(all_rows, texte="exemple")) == 2
    assert len(ap.filter_rows(all_rows, service="SERV1")) == 1
    assert len(ap.filter_rows(all_rows, structure="130 000 000 00006")) == 2
    assert len(ap.filter_rows(all_rows, structure="13000000000014")) == 0
    assert len(ap.filter_rows(all_rows, depuis=now + timedelta(hours=1))) == 1
    assert len(ap.filter_rows(all_rows, jusqu_a=now)) == 1


def test_csv_for_french_excel(now):
    data = as_csv(rows(now))
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    parsed = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert parsed[0] == [
        "État",
        "Description",
        "Demandeur",
        "Structure",
        "Raison sociale",
        "Service",
        "Créé le",
    ]
    assert parsed[2] == [
        "En cours de validation",
        "Demande de rattachement au service SERV1",
        "Jeanne MARTIN",
        SIRET,
        "Commune d'Exemple",
        "SERV1",
        "14/03/2025 10:00",
    ]  # 09:00 UTC is 10:00 in Paris in March


def test_csv_neutralises_formulas(now):
    text = as_csv(rows(now)).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert parsed[1][2] == '\'=HYPERLINK("http://evil")'
    assert parsed[1][0] == "Validée"


def test_csv_dates_follow_summer_time():
    summer = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
    [row] = rows(summer)[1:]
    assert (
        as_csv([row]).decode("utf-8-sig").splitlines()[1].endswith("01/07/2025 11:00")
    )
