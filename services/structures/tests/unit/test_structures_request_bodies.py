"""The structures API's request bodies: /docs shows each JSON body's fields as the domain
defines them, and a body hands the domain exactly what was sent (the domain's rules, codes and
French messages stay the only ones; the service's API tests check those)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from chorale_runtime.testing.tokens import TokenFactory
from chorale_structures.bootstrap import build_app
from chorale_structures.domain.structure_model import Structure
from chorale_structures.entrypoints import bodies
from chorale_structures.entrypoints.bodies import RequestBody, StructureChanges, domain_schema
from chorale_structures.settings import StructuresSettings

NO_BODY = ("/activation", "/desactivation")  # state changes named by their path
NOT_JSON = {"/v1/structures/imports": "text/csv",
            "/v1/structures/{identifiant}/pieces-jointes": "multipart/form-data"}


@pytest.fixture(scope="module")
def openapi(tmp_path_factory) -> dict[str, Any]:
    app = build_app(StructuresSettings(import_dir=tmp_path_factory.mktemp("imports")),
                    verifier=TokenFactory().verifier())
    return app.openapi()


def _writes(document: dict[str, Any]):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method in ("post", "put", "patch"):
                yield f"{method.upper()} {path}", path, operation


def _resolved(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "anyOf" in schema:  # an optional body: the object or null
        schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def test_every_json_body_is_documented_field_by_field(openapi):
    documented = []
    for name, path, operation in _writes(openapi):
        if path.endswith(NO_BODY):
            assert "requestBody" not in operation, name
            continue
        content = operation["requestBody"]["content"]
        if path in NOT_JSON:
            assert list(content) == [NOT_JSON[path]], name
            continue
        schema = _resolved(openapi, content["application/json"]["schema"])
        assert schema.get("type") == "object" and schema.get("properties"), name
        documented.append(name)
    assert sorted(documented) == [
        "PATCH /v1/structures/{identifiant}",
        "PATCH /v1/structures/{identifiant}/coordonnees-bancaires/{idCoordonneeBancaire}",
        "PATCH /v1/structures/{identifiant}/services/{codeService}",
        "POST /v1/demandes",
        "POST /v1/demandes/{idDemande}/acceptation",
        "POST /v1/demandes/{idDemande}/refus",
        "POST /v1/structures",
        "POST /v1/structures/{identifiant}/coordonnees-bancaires",
        "POST /v1/structures/{identifiant}/services",
        "PUT /v1/structures/{identifiant}/parametres",
    ]


def test_a_field_is_documented_as_the_domain_defines_it(openapi):
    creation = _resolved(openapi, openapi["paths"]["/v1/structures"]["post"]["requestBody"]
                         ["content"]["application/json"]["schema"])
    assert creation["properties"]["raisonSociale"] == {"type": "string", "minLength": 1,
                                                       "maxLength": 200}
    assert creation["properties"]["typeIdentifiant"]["enum"] == [
        "SIRET", "UE_HORS_FRANCE", "HORS_UE", "RIDET", "TAHITI", "AUTRE"]
    assert creation["required"] == ["identifiant", "raisonSociale"]
    assert creation["additionalProperties"] is False  # the domain refuses unknown fields
    assert domain_schema(Structure)["properties"]["raisonSociale"]["maxLength"] == 200


BODIES = [b for name, b in vars(bodies).items() if not name.startswith("_")
          and isinstance(b, type) and issubclass(b, RequestBody) and b is not RequestBody]


@pytest.mark.parametrize("body", BODIES, ids=lambda b: b.__name__)
def test_every_field_named_is_one_the_domain_knows(body: type[RequestBody]):
    # A misspelt field would be documented, yet refused (or ignored) by the domain.
    assert body.DOCUMENTED_AS is not None
    known = set(domain_schema(body.DOCUMENTED_AS)["properties"])
    described_only = {"structure"}  # the demande's proposed structure, a Structure itself
    assert set(body.model_fields) - known <= described_only
    for name in body.REQUIRED:
        assert name in body.model_fields


def test_a_body_hands_on_exactly_what_was_sent():
    sent = {"telephone": None, "raisonSociale": 12, "champInconnu": [1]}
    assert StructureChanges.model_validate(sent).sent() == sent
    assert StructureChanges.model_validate({}).sent() == {}


def test_a_body_must_be_a_json_object():
    with pytest.raises(ValueError):
        StructureChanges.model_validate(["raisonSociale"])


def test_the_bodies_are_pydantic_models():
    assert all(issubclass(b, BaseModel) for b in BODIES) and len(BODIES) == 9
