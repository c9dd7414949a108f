"""Vocabulary shared by several topics."""

from enum import StrEnum


class TypeIdentifiant(StrEnum):
    SIRET = "SIRET"
    UE_HORS_FRANCE = "UE_HORS_FRANCE"
    HORS_UE = "HORS_UE"
    RIDET = "RIDET"
    TAHITI = "TAHITI"
    AUTRE = "AUTRE"


class TypeStructure(StrEnum):
    PUBLIQUE = "PUBLIQUE"
    PRIVEE = "PRIVEE"


class StatutStructure(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class StatutService(StrEnum):
    ACTIF = "ACTIF"
    INACTIF = "INACTIF"


class Application(StrEnum):
    """The applications habilitations are granted on (DESIGN.md §6 "Habilitations")."""

    ENGAGEMENTS = "ENGAGEMENTS"
    FACTURES_DE_TRAVAUX = "FACTURES_DE_TRAVAUX"
    FACTURES_A_VALIDER = "FACTURES_A_VALIDER"
    FACTURES_EMISES = "FACTURES_EMISES"
    FACTURES_RECUES = "FACTURES_RECUES"
    REMBOURSEMENTS_DE_TAXES = "REMBOURSEMENTS_DE_TAXES"
    SUIVI_DES_FLUX = "SUIVI_DES_FLUX"
    FRAIS_DE_JUSTICE = "FRAIS_DE_JUSTICE"
    MES_MESSAGES = "MES_MESSAGES"
    ORGANISATION = "ORGANISATION"
    RACCORDEMENTS = "RACCORDEMENTS"
    SOLLICITATIONS_EMISES = "SOLLICITATIONS_EMISES"


APPLICATION_LABELS: dict[Application, str] = {
    Application.ENGAGEMENTS: "Engagements",
    Application.FACTURES_DE_TRAVAUX: "Factures de travaux",
    Application.FACTURES_A_VALIDER: "Factures à valider",
    Application.FACTURES_EMISES: "Factures émises",
    Application.FACTURES_RECUES: "Factures reçues",
    Application.REMBOURSEMENTS_DE_TAXES: "Remboursements de taxes",
    Application.SUIVI_DES_FLUX: "Suivi des flux",
    Application.FRAIS_DE_JUSTICE: "Frais de justice",
    Application.MES_MESSAGES: "Mes messages",
    Application.ORGANISATION: "Organisation",
    Application.RACCORDEMENTS: "Raccordements",
    Application.SOLLICITATIONS_EMISES: "Sollicitations émises",
}


class Mode(StrEnum):
    CONSULTATION = "CONSULTATION"
    MODIFICATION = "MODIFICATION"


class FlowStatus(StrEnum):
    IN_RECU = "IN_RECU"
    IN_EN_ATTENTE_TRAITEMENT = "IN_EN_ATTENTE_TRAITEMENT"
    IN_EN_COURS_TRAITEMENT = "IN_EN_COURS_TRAITEMENT"
    IN_INTEGRE = "IN_INTEGRE"
    IN_REJETE = "IN_REJETE"
    IN_INCIDENTE = "IN_INCIDENTE"


TERMINAL_FLOW_STATUSES = frozenset(
    {FlowStatus.IN_INTEGRE, FlowStatus.IN_REJETE, FlowStatus.IN_INCIDENTE}
)


class Syntax(StrEnum):
    IN_DP_E1_UBL_INVOICE = "IN_DP_E1_UBL_INVOICE"
    IN_DP_E1_CII_16B = "IN_DP_E1_CII_16B"
    IN_DP_E2_CII_FACTURX = "IN_DP_E2_CII_FACTURX"  # a PDF/A-3 carrying a CII invoice
