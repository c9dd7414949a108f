"""A flow's compte rendu for people: its statuses in French, and each rule code of the intake
(DESIGN.md §6 "Invoice intake", services/invoice-intake/docs/compte-rendu.md) explained — what
it means and what to do — with the family of a business rule's id (BR-CO-15, BR-FR-08_BT-23…).
The intake's own message (already French, with the values at fault) is shown with it. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FLOW_STATUSES: dict[str, str] = {
    "IN_RECU": "Reçu",
    "IN_EN_ATTENTE_TRAITEMENT": "En attente de traitement",
    "IN_EN_COURS_TRAITEMENT": "En cours de traitement",
    "IN_INTEGRE": "Intégré",
    "IN_REJETE": "Rejeté",
    "IN_INCIDENTE": "En incident",
}
IN_PROGRESS = frozenset({"IN_RECU", "IN_EN_ATTENTE_TRAITEMENT", "IN_EN_COURS_TRAITEMENT"})
CHANNELS: dict[str, str] = {"EDI": "EDI (dépôt de fichier)", "API": "API"}
SYNTAXES: dict[str, str] = {
    "IN_DP_E1_UBL_INVOICE": "UBL 2.1",
    "IN_DP_E1_CII_16B": "CII D16B",
    "IN_DP_E2_CII_FACTURX": "Factur-X (PDF)",
}


@dataclass(frozen=True)
class Explanation:
    title: str
    advice: str


_CODES: dict[str, tuple[str, str]] = {
    # -- the file itself (the whole flow is rejected) --------------------------------------
    "EMPTY_FILE": ("Fichier vide",
                   "Le fichier reçu ne contient rien. Vérifiez l'export de votre logiciel et "
                   "déposez de nouveau la facture."),
    "FILE_TOO_LARGE": ("Fichier trop volumineux",
                       "Le fichier dépasse la taille acceptée. Allégez-le (pièces jointes "
                       "intégrées, images) ou scindez l'envoi : un fichier = une facture."),
    "XML_MALFORMED": ("Fichier XML illisible",
                      "Le fichier n'est pas du XML correct (balise non fermée, caractère "
                      "interdit, encodage). La ligne et la colonne indiquées montrent où la "
                      "lecture s'est arrêtée."),
    "XML_FORBIDDEN_DTD": ("Déclaration DOCTYPE interdite",
                          "Pour la sécurité de la plateforme, un document contenant un DOCTYPE "
                          "ou des entités est refusé. Retirez cette déclaration du fichier."),
    "SYNTAX_UNKNOWN": ("Format de facture non reconnu",
                       "Seules les factures UBL 2.1, CII D16B et Factur-X sont acceptées. "
                       "Vérifiez le format choisi dans votre logiciel."),
    "SYNTAX_MISMATCH": ("Format déclaré différent du contenu",
                        "La syntaxe annoncée au dépôt ne correspond pas au fichier. Corrigez la "
                        "syntaxe déclarée ou ne la déclarez pas : elle est alors détectée."),
    "XSD_INVALID": ("Fichier non conforme au schéma officiel",
                    "Un élément manque, est mal placé ou a une valeur du mauvais type. L'erreur "
                    "indique la ligne et l'élément à corriger dans le fichier."),
    "PDF_INVALID": ("PDF illisible", "Le fichier n'est pas un PDF lisible. Générez de nouveau "
                    "la facture Factur-X."),
    "PDF_TRUNCATED": ("PDF incomplet", "Le PDF a été coupé pendant sa transmission ou sa "
                      "création. Déposez-le de nouveau."),
    "PDF_ENCRYPTED": ("PDF protégé", "Une facture Factur-X ne peut pas être chiffrée ni protégée "
                      "par un mot de passe. Déposez une version sans protection."),
    "PDF_TOO_COMPLEX": ("PDF trop complexe", "Le PDF dépasse les limites de traitement. Générez-"
                        "le de nouveau sans éléments superflus."),
    "FACTURX_NO_INVOICE": ("Pas de facture dans le PDF",
                           "Le PDF ne contient pas le fichier XML de la facture (factur-x.xml). "
                           "Utilisez un export Factur-X de votre logiciel."),
    "FACTURX_AMBIGUOUS": ("Plusieurs factures dans le PDF",
                          "Le PDF contient plusieurs factures XML différentes : une seule est "
                          "permise par fichier."),
    "FACTURX_PROFILE_MISMATCH": ("Profil Factur-X incohérent",
                                 "Le profil annoncé dans les métadonnées du PDF diffère de celui "
                                 "de la facture (BT-24). Générez de nouveau le PDF."),
    "FACTURX_PROFILE_NOT_INVOICE": ("Profil Factur-X insuffisant",
                                    "Les profils MINIMUM et BASIC WL ne sont pas des factures. "
                                    "Déposez un profil BASIC, EN 16931 ou EXTENDED."),
    "INCIDENT_TECHNIQUE": ("Incident technique de la plateforme",
                           "Le traitement a échoué pour une raison technique, sans lien avec "
                           "votre fichier. L'opérateur peut relancer le flux ; inutile de le "
                           "déposer de nouveau."),
    # -- the invoice (rejected, the flow with it) ------------------------------------------
    "SUPPLIER_NOT_PARTNER": ("Fournisseur différent du déposant",
                             "Le SIRET du fournisseur de la facture doit être celui de la "
                             "structure à qui appartient le compte technique."),
    "RECIPIENT_MISSING": ("Destinataire absent",
                          "La facture doit indiquer le SIRET de la structure publique "
                          "destinataire."),
    "RECIPIENT_UNKNOWN": ("Destinataire inconnu",
                          "Ce SIRET ne figure pas dans l'annuaire des structures publiques. "
                          "Vérifiez-le auprès de votre client public."),
    "RECIPIENT_INACTIVE": ("Destinataire inactif",
                           "La structure destinataire n'est plus active : renseignez-vous "
                           "auprès d'elle sur la structure à facturer."),
    "RECIPIENT_NOT_PUBLIC": ("Destinataire non public",
                             "Le destinataire n'est pas une structure publique : il ne reçoit "
                             "pas de factures sur cette plateforme."),
    "SERVICE_CODE_REQUIRED": ("Code service obligatoire",
                              "Ce destinataire exige un code service (BT-10, « référence "
                              "acheteur »). Demandez-le à votre client et ajoutez-le à la "
                              "facture."),
    "SERVICE_UNKNOWN": ("Code service inconnu",
                        "Ce code service n'existe pas chez le destinataire. Vérifiez-le dans "
                        "l'annuaire ou auprès de votre client."),
    "SERVICE_INACTIVE": ("Service inactif",
                         "Le service n'était pas actif à la date de la facture (désactivé, ou "
                         "hors de sa période d'activation). Demandez le bon code service."),
    "SERVICE_RESERVED": ("Service réservé",
                         "Le service FACTURES_PUBLIQUES ne reçoit que les factures entre "
                         "structures publiques."),
    "ENGAGEMENT_REQUIRED": ("Numéro d'engagement obligatoire",
                            "Le destinataire ou son service exige le numéro d'engagement "
                            "juridique (bon de commande, marché : BT-13)."),
    "SERVICE_OR_ENGAGEMENT_REQUIRED": ("Code service ou engagement obligatoire",
                                       "Le destinataire exige au moins l'un des deux : le code "
                                       "service ou le numéro d'engagement."),
    "ENGAGEMENT_TOO_LONG": ("Numéro d'engagement trop long",
                            "Le numéro d'engagement ne peut pas dépasser 50 caractères."),
    "ISSUE_DATE_IN_FUTURE": ("Date de facture dans le futur",
                             "La date d'émission ne peut pas être postérieure au jour du "
                             "dépôt."),
    "DUPLICATE_INVOICE": ("Facture en double",
                          "Une facture de ce fournisseur avec ce numéro a déjà été intégrée "
                          "cette année. Ne la déposez pas deux fois ; une nouvelle facture "
                          "doit avoir un nouveau numéro."),
    "BUSINESS_RULE": ("Règle de gestion non respectée",
                      "Le contenu de la facture ne respecte pas une règle de la norme "
                      "européenne EN 16931 ou des règles françaises. La règle est nommée "
                      "ci-dessous ; corrigez la facture dans votre logiciel."),
}

# The families of business-rule ids (EN 16931 and the French rules): the first match wins.
_RULE_FAMILIES: tuple[tuple[str, str], ...] = (
    ("BR-FR-CDV", "règle française des messages de cycle de vie (CDAR)"),
    ("BR-FR", "règle française de la facturation électronique (FNFE, XP Z12-012)"),
    ("BR-CO", "règle de cohérence de la norme EN 16931 (calculs et totaux)"),
    ("BR-DEC", "règle de la norme EN 16931 sur le nombre de décimales des montants"),
    ("BR-CL", "règle de la norme EN 16931 sur les listes de codes autorisés"),
    ("BR-AE", "règle de TVA de la norme EN 16931 : autoliquidation (catégorie AE)"),
    ("BR-AF", "règle de TVA de la norme EN 16931 : IGIC des Canaries (catégorie L)"),
    ("BR-AG", "règle de TVA de la norme EN 16931 : IPSI de Ceuta et Melilla (catégorie M)"),
    ("BR-E-", "règle de TVA de la norme EN 16931 : opération exonérée (catégorie E)"),
    ("BR-G-", "règle de TVA de la norme EN 16931 : exportation hors UE (catégorie G)"),
    ("BR-IC", "règle de TVA de la norme EN 16931 : livraison intracommunautaire (catégorie K)"),
    ("BR-IG", "règle de TVA de la norme EN 16931 : IGIC des Canaries"),
    ("BR-IP", "règle de TVA de la norme EN 16931 : IPSI de Ceuta et Melilla"),
    ("BR-O-", "règle de TVA de la norme EN 16931 : hors champ de la TVA (catégorie O)"),
    ("BR-S-", "règle de TVA de la norme EN 16931 : taux normal (catégorie S)"),
    ("BR-Z-", "règle de TVA de la norme EN 16931 : taux zéro (catégorie Z)"),
    ("BR-", "règle de la norme européenne EN 16931 (contenu obligatoire de la facture)"),
    ("UBL-", "règle propre à la syntaxe UBL de la norme EN 16931"),
    ("CII-", "règle propre à la syntaxe CII de la norme EN 16931"),
    ("FX-", "règle du profil Factur-X"),
)

# The rules suppliers meet most, in French (the intake reports the official text, in English
# for EN 16931).
_RULES: dict[str, str] = {
    "BR-01": "La facture doit indiquer l'identifiant de spécification (BT-24).",
    "BR-02": "La facture doit avoir un numéro (BT-1).",
    "BR-03": "La facture doit avoir une date d'émission (BT-2).",
    "BR-04": "La facture doit indiquer son type (BT-3).",
    "BR-05": "La facture doit indiquer sa devise (BT-5).",
    "BR-06": "La facture doit indiquer le nom du vendeur (BT-27).",
    "BR-07": "La facture doit indiquer le nom de l'acheteur (BT-44).",
    "BR-08": "La facture doit indiquer l'adresse postale du vendeur.",
    "BR-10": "La facture doit indiquer l'adresse postale de l'acheteur.",
    "BR-16": "La facture doit avoir au moins une ligne.",
    "BR-CO-10": "Le total des lignes HT (BT-106) doit être la somme des montants HT des "
                "lignes (BT-131).",
    "BR-CO-13": "Le total HT (BT-109) doit égaler le total des lignes moins les remises plus "
                "les frais.",
    "BR-CO-14": "Le total de TVA (BT-110) doit être la somme des montants de TVA par taux.",
    "BR-CO-15": "Le total TTC (BT-112) doit égaler le total HT (BT-109) plus la TVA (BT-110).",
    "BR-CO-16": "Le net à payer (BT-115) doit égaler le total TTC moins les acomptes plus "
                "l'arrondi.",
    "BR-S-08": "Pour le taux normal, la base de chaque taux de TVA doit être la somme des "
               "lignes à ce taux.",
    "BR-S-09": "Pour le taux normal, la TVA de chaque taux doit être la base multipliée par "
               "le taux.",
}


def status_label(code: str | None) -> str:
    return FLOW_STATUSES.get(code or "", code or "")


def explain(code: str) -> Explanation:
    title, advice = _CODES.get(code, ("Erreur", "Consultez le message ci-dessous."))
    return Explanation(title, advice)


def rule_family(rule: str) -> str:
    for prefix, family in _RULE_FAMILIES:
        if rule.upper().startswith(prefix):
            return family
    return "règle de gestion"


def rule_text(rule: str) -> str | None:
    """The rule in French, for the common ones (the id without a French field suffix)."""
    return _RULES.get(rule.upper()) or _RULES.get(rule.upper().split("_")[0])


@dataclass(frozen=True)
class ExplainedError:
    code: str
    title: str
    advice: str
    message: str
    rule: str | None
    family: str | None
    rule_text: str | None
    warning: bool
    where: str | None
    value: str | None
    invoice: str | None


def explained(error: Mapping[str, Any], *, warning: bool = False) -> ExplainedError:
    """One error of the CR (`listeErreurTechnique`, `listeErreurDP`, `listeAvertissementDP`)."""
    code = str(error.get("code") or "")
    meaning = explain(code)
    rule = error.get("regle") or None
    place = []
    if error.get("ligne"):
        place.append(f"ligne {error['ligne']}"
                     + (f", colonne {error['colonne']}" if error.get("colonne") else ""))
    if error.get("chemin"):
        place.append(f"élément {error['chemin']}")
    return ExplainedError(
        code=code, title=meaning.title, advice=meaning.advice,
        message=str(error.get("message") or ""), rule=rule,
        family=rule_family(rule) if rule else None,
        rule_text=rule_text(rule) if rule else None,
        warning=warning or error.get("gravite") == "warning",
        where=" — ".join(place) or None, value=error.get("valeur"),
        invoice=error.get("numeroFacture"),
    )


def explained_cr(cr: Mapping[str, Any]) -> dict[str, list[ExplainedError]]:
    return {
        "fichier": [explained(e) for e in cr.get("listeErreurTechnique") or []],
        "facture": [explained(e) for e in cr.get("listeErreurDP") or []],
        "avertissements": [explained(e, warning=True)
                           for e in cr.get("listeAvertissementDP") or []],
    }
