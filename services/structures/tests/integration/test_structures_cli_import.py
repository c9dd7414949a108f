"""`chorale structures import FILE` as an operator runs it, against the running service."""

import asyncio
import os
import sys

import pytest

pytestmark = pytest.mark.integration


async def _chorale(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chorale_cli", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode()


async def test_the_cli_uploads_follows_and_reports(api, tmp_path, make_siret):
    good, other = make_siret(), make_siret()
    path = tmp_path / "referentiel.csv"
    path.write_text(
        "identifiant;raisonSociale;codePostal\n"
        f"{good};COMMUNE CLI;49000\n"
        "12345678901234;MAUVAIS;49000\n"
        f"{other};AUTRE COMMUNE;4900\n",
        encoding="utf-8",
    )
    base = str(api.client.base_url)
    token = api.tokens.token("operator-cli", roles=("operator",))
    status, out = await _chorale("structures", "import", str(path), "--url", base,
                                 "--interval", "0.1", env={"CHORALE_TOKEN": token})
    assert status == 0, out
    assert "Envoi du fichier" in out and "Traitement des lignes" in out
    assert "TERMINE" in out
    for expected in ("Créées", "SIRET_INVALID", "VALIDATION_FAILED", "codePostal"):
        assert expected in out, out
    assert (await api.db["structures"].find_one({"_id": good}))["raisonSociale"] == "COMMUNE CLI"

    strict, _ = await _chorale("structures", "import", str(path), "--url", base, "--strict",
                               "--token", token)
    assert strict == 3  # same rejections; the structures are now unchanged

    user = api.tokens.token("not-an-operator")
    refused, out = await _chorale("structures", "import", str(path), "--url", base,
                                  "--token", user)
    assert refused == 1 and "FORBIDDEN" in out

    path.write_text("identifiant;couleur\n1;bleu\n", encoding="utf-8")
    failed, out = await _chorale("structures", "import", str(path), "--url", base,
                                 "--token", token)
    assert failed == 1 and "IMPORT_HEADER_INVALID" in out
