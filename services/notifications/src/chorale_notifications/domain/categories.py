"""What a notification is about. Users switch e-mail on or off per category; the inbox always
keeps the message, except account-security mails, which carry a single-use link."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    RATTACHEMENT_DEMANDE = "RATTACHEMENT_DEMANDE"
    RATTACHEMENT_DECISION = "RATTACHEMENT_DECISION"
    GESTIONNAIRE_PRINCIPAL = "GESTIONNAIRE_PRINCIPAL"
    HABILITATIONS = "HABILITATIONS"
    FLUX_REJETE = "FLUX_REJETE"
    FACTURE_MISE_A_DISPOSITION = "FACTURE_MISE_A_DISPOSITION"
    FACTURE_STATUT = "FACTURE_STATUT"
    FACTURE_COMPLETEE = "FACTURE_COMPLETEE"
    SECURITE_COMPTE = "SECURITE_COMPTE"


LABELS: dict[Category, str] = {
    Category.RATTACHEMENT_DEMANDE: "Demandes de rattachement à valider",
    Category.RATTACHEMENT_DECISION: "Décisions sur mes demandes de rattachement",
    Category.GESTIONNAIRE_PRINCIPAL: "Rôle de gestionnaire principal",
    Category.HABILITATIONS: "Modifications de mes habilitations",
    Category.FLUX_REJETE: "Flux rejetés",
    Category.FACTURE_MISE_A_DISPOSITION: "Factures mises à disposition",
    Category.FACTURE_STATUT: "Statut de mes factures émises (suspension, rejet, paiement…)",
    Category.FACTURE_COMPLETEE: "Factures complétées par leur fournisseur",
    Category.SECURITE_COMPTE: "Sécurité du compte (vérification, mot de passe)",
}

# E-mail cannot be switched off for these: the mail is the only way to reach the user.
MANDATORY: frozenset[Category] = frozenset({Category.SECURITE_COMPTE})
# Not copied into "Mes messages": the mail holds a single-use credential (link).
MAIL_ONLY: frozenset[Category] = frozenset({Category.SECURITE_COMPTE})


def email_enabled(category: Category, choices: dict[str, bool]) -> bool:
    """E-mail is on unless the user switched it off (mandatory categories stay on)."""
    if category in MANDATORY:
        return True
    return bool(choices.get(category.value, True))


# Sending order when mails wait: account security first (a person is waiting for the link),
# bulk notices (flows, invoices) last, everything else in between.
URGENT, NORMAL, BULK = 0, 1, 2
_BULK = frozenset({Category.FLUX_REJETE, Category.FACTURE_MISE_A_DISPOSITION})


def priority(category: Category) -> int:
    if category in MANDATORY:
        return URGENT
    return BULK if category in _BULK else NORMAL
