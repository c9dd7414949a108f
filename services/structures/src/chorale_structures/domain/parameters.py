"""Public-structure parameters ("Paramètres structure publique") and their coherence rules.

The three invoicing obligations a public structure can impose on its suppliers:

- ``codeServiceDoitEtreRenseigne``: the code service (BT-10) is mandatory;
- ``numeroEJDoitEtreRenseigne``: the numéro d'engagement (BT-13) is mandatory;
- ``gestionNumeroEJOuCodeService``: at least one of the two is mandatory.

Allowed combinations: none of them; code service only; EJ only; code service and EJ; "EJ or
code service" alone. Forbidden (PARAMETERS_INCOHERENT): "EJ or code service" together with
either individual obligation. "At least one" is then already implied, so the box would be
meaningless; accepting it would let the structure believe it set the lenient "either" rule
while the stricter one applies, and would give intake two readings of the same state. Chorus
Pro presents the "either" box as an alternative to the two others, not as an addition.

``recevoirDonneesViaEDI`` comes from the DGFiP reference data: only an operator (the reference
import) sets it. ``statutMiseEnPaiementNestPasRemonte`` is free. ``presenceMOA`` (works
invoices) is SANS_MOA (the default: works invoices validated outside the platform, which is
also what the portal's "-- Aucun --" amounts to), AVEC_MOA or EXCLUSIVEMENT_MOA.
Parameters exist only on PUBLIQUE structures (PARAMETERS_NOT_APPLICABLE otherwise).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator

from .errors import DomainError, ErrorCode


class PresenceMOA(StrEnum):
    SANS_MOA = "SANS_MOA"
    AVEC_MOA = "AVEC_MOA"
    EXCLUSIVEMENT_MOA = "EXCLUSIVEMENT_MOA"


PARAMETER_FIELDS = (
    "codeServiceDoitEtreRenseigne",
    "numeroEJDoitEtreRenseigne",
    "gestionNumeroEJOuCodeService",
    "statutMiseEnPaiementNestPasRemonte",
    "recevoirDonneesViaEDI",
    "presenceMOA",
)
OPERATOR_ONLY_PARAMETERS = frozenset({"recevoirDonneesViaEDI"})


class ParametresStructure(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    codeServiceDoitEtreRenseigne: bool = False
    numeroEJDoitEtreRenseigne: bool = False
    gestionNumeroEJOuCodeService: bool = False
    statutMiseEnPaiementNestPasRemonte: bool = False
    recevoirDonneesViaEDI: bool = False
    presenceMOA: PresenceMOA = PresenceMOA.SANS_MOA

    @model_validator(mode="after")
    def _coherent(self) -> ParametresStructure:
        check_parameters(self)
        return self


def check_parameters(params: ParametresStructure) -> None:
    """Raise PARAMETERS_INCOHERENT for a forbidden combination (see module docstring)."""
    if params.gestionNumeroEJOuCodeService and (
        params.codeServiceDoitEtreRenseigne or params.numeroEJDoitEtreRenseigne
    ):
        raise DomainError(
            ErrorCode.PARAMETERS_INCOHERENT,
            "« Le numéro d'engagement ou le code service est obligatoire » ne peut pas être "
            "coché en même temps que l'obligation du code service ou du numéro d'engagement.",
            {
                "champs": [
                    "gestionNumeroEJOuCodeService",
                    "codeServiceDoitEtreRenseigne",
                    "numeroEJDoitEtreRenseigne",
                ]
            },
        )
