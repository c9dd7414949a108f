"""From a submitted form to the body a service's API expects: pure functions, so every page's
mapping is tested without a browser or a server. A form value is a string (absent when a
checkbox is unticked); the APIs want typed JSON with `null` for "no value"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chorale_portal.domain.form_errors import FormErrors

Form = Mapping[str, Any]

STRUCTURE_FIELDS = (
    "raisonSociale", "libelleStructure", "adresseElectronique", "telephone", "numeroTva",
    "numeroRcs", "adresse", "complementAdresse1", "complementAdresse2", "codePostal", "ville",
    "pays",
)
IDENTIFIER_TYPES = ("SIRET", "UE_HORS_FRANCE", "HORS_UE", "RIDET", "TAHITI", "AUTRE")
PRESENCE_MOA = ("SANS_MOA", "AVEC_MOA", "EXCLUSIVEMENT_MOA")
BOOLEAN_PARAMETERS = ("codeServiceDoitEtreRenseigne", "numeroEJDoitEtreRenseigne",
                      "gestionNumeroEJOuCodeService", "statutMiseEnPaiementNestPasRemonte")


def text(form: Form, name: str) -> str | None:
    """The trimmed value, None when empty or absent."""
    value = form.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def ticked(form: Form, name: str) -> bool:
    return form.get(name) in ("on", "true", "1", "oui")


def require(form: Form, names: Mapping[str, str], errors: FormErrors) -> None:
    """Required fields, checked here too (the browser checks them first, when it can)."""
    for name, label in names.items():
        if text(form, name) is None:
            errors.add(name, f"{label} : ce champ est obligatoire.")


# -- accounts ---------------------------------------------------------------------------------
def registration(form: Form) -> tuple[dict[str, Any], FormErrors]:
    errors = FormErrors()
    require(form, {"email": "Adresse électronique de connexion", "prenom": "Prénom",
                   "nom": "Nom", "password": "Mot de passe"}, errors)
    if form.get("password") != form.get("passwordConfirmation"):
        errors.add("passwordConfirmation", "Les deux mots de passe ne sont pas identiques.")
    body: dict[str, Any] = {
        "email": text(form, "email"), "password": form.get("password") or "",
        "prenom": text(form, "prenom"), "nom": text(form, "nom"),
    }
    for optional in ("contactEmail", "telephone", "mobile"):
        if text(form, optional):
            body[optional] = text(form, optional)
    return body, errors


def new_password(form: Form, field: str = "newPassword") -> tuple[str, FormErrors]:
    errors = FormErrors()
    value = form.get(field) or ""
    if not value:
        errors.add(field, "Nouveau mot de passe : ce champ est obligatoire.")
    elif value != form.get(f"{field}Confirmation"):
        errors.add(f"{field}Confirmation", "Les deux mots de passe ne sont pas identiques.")
    return value, errors


def with_second_factor(body: dict[str, Any], form: Form, field: str = "totp") -> dict[str, Any]:
    """Sensitive changes carry the current TOTP code when the account has one."""
    if text(form, field):
        body[field] = text(form, field)
    return body


def profile(form: Form) -> tuple[dict[str, Any], FormErrors]:
    errors = FormErrors()
    require(form, {"prenom": "Prénom", "nom": "Nom"}, errors)
    return {"prenom": text(form, "prenom"), "nom": text(form, "nom"),
            "telephone": text(form, "telephone") or "",
            "mobile": text(form, "mobile") or ""}, errors


# -- structures -------------------------------------------------------------------------------
def structure_information(form: Form) -> tuple[dict[str, Any], FormErrors]:
    """General information and postal address (PATCH: every field sent, empty = cleared)."""
    errors = FormErrors()
    require(form, {"raisonSociale": "Raison sociale"}, errors)
    body: dict[str, Any] = {name: text(form, name) for name in STRUCTURE_FIELDS}
    body["pays"] = (body["pays"] or "FR").upper()
    body["nonDiffusibleInsee"] = ticked(form, "nonDiffusibleInsee")
    return body, errors


def new_structure(form: Form) -> tuple[dict[str, Any], FormErrors]:
    body, errors = structure_information(form)
    require(form, {"identifiant": "Identifiant"}, errors)
    kind = text(form, "typeIdentifiant") or "SIRET"
    if kind not in IDENTIFIER_TYPES:
        errors.add("typeIdentifiant", "Type d'identifiant inconnu.")
    identifier = text(form, "identifiant") or ""
    if kind == "SIRET":
        identifier = identifier.replace(" ", "")
    body = {"identifiant": identifier, "typeIdentifiant": kind,
            **{k: v for k, v in body.items() if v is not None}}
    return body, errors


def parameters(form: Form) -> tuple[dict[str, Any], FormErrors]:
    errors = FormErrors()
    body: dict[str, Any] = {name: ticked(form, name) for name in BOOLEAN_PARAMETERS}
    moa = text(form, "presenceMOA") or "SANS_MOA"
    if moa not in PRESENCE_MOA:
        errors.add("presenceMOA", "Valeur inconnue.")
    body["presenceMOA"] = moa
    return body, errors


def public_structure_request(form: Form) -> tuple[dict[str, Any], FormErrors]:
    structure, errors = new_structure(form)
    params, param_errors = parameters(form)
    errors.top += param_errors.top
    errors.fields.update(param_errors.fields)
    structure["parametres"] = params
    body: dict[str, Any] = {"type": "CREATION_STRUCTURE_PUBLIQUE", "structure": structure}
    if text(form, "commentaire"):
        body["commentaire"] = text(form, "commentaire")
    return body, errors


def deactivation_request(identifiant: str, form: Form) -> tuple[dict[str, Any], FormErrors]:
    errors = FormErrors()
    require(form, {"commentaire": "Motif"}, errors)
    return {"type": "DESACTIVATION_STRUCTURE", "identifiant": identifiant,
            "commentaire": text(form, "commentaire")}, errors


# -- services ---------------------------------------------------------------------------------
def service(form: Form, *, new: bool) -> tuple[dict[str, Any], FormErrors]:
    errors = FormErrors()
    required = {"libelle": "Libellé", "dateDebutActivation": "Date de début d'activation"}
    if new:
        required = {"codeService": "Code service", **required}
    require(form, required, errors)
    body: dict[str, Any] = {
        "libelle": text(form, "libelle"), "description": text(form, "description"),
        "dateDebutActivation": text(form, "dateDebutActivation"),
        "dateFinActivation": text(form, "dateFinActivation"),
        "numeroEJDoitEtreRenseigne": ticked(form, "numeroEJDoitEtreRenseigne"),
    }
    if new:
        body = {"codeService": (text(form, "codeService") or "").upper(), **body}
    return body, errors


# -- bank details -----------------------------------------------------------------------------
def bank_details(form: Form, *, new: bool) -> tuple[dict[str, Any], FormErrors]:
    errors = FormErrors()
    require(form, {"nom": "Nom du compte"}, errors)
    kind = text(form, "type") or "IBAN"
    body: dict[str, Any] = {"nom": text(form, "nom"), "type": kind}
    if kind == "IBAN":
        require(form, {"iban": "IBAN", "bic": "BIC"}, errors)
        body.update(iban=text(form, "iban"), bic=text(form, "bic"))
    elif kind == "RIB":
        require(form, {"codeBanque": "Code banque", "codeGuichet": "Code guichet",
                       "numeroCompte": "Numéro de compte", "cleRib": "Clé RIB"}, errors)
        body.update({name: text(form, name) for name in
                     ("codeBanque", "codeGuichet", "numeroCompte", "cleRib")})
        if text(form, "bic"):
            body["bic"] = text(form, "bic")
    else:
        errors.add("type", "Choisissez IBAN ou RIB.")
    factor = {name: text(form, f"affactureur_{name}")
              for name in ("raisonSociale", "pays", "identifiant", "typeIdentifiant")}
    # The identifier type is a list with a default: only typed fields mean "a factor".
    if factor["raisonSociale"] or factor["identifiant"] or factor["pays"]:
        if not factor["raisonSociale"]:
            errors.add("affactureur_raisonSociale",
                       "Raison sociale de l'affactureur : ce champ est obligatoire.")
        if not factor["identifiant"]:
            errors.add("affactureur_identifiant",
                       "Identifiant de l'affactureur : ce champ est obligatoire.")
        factor["pays"] = (factor["pays"] or "FR").upper()
        factor["typeIdentifiant"] = factor["typeIdentifiant"] or "SIRET"
        body["affactureur"] = factor
    elif not new:
        body["affactureur"] = None
    return body, errors


# -- people ------------------------------------------------------------------------------------
def rattachement_request(identifiant: str, form: Form) -> tuple[dict[str, Any], FormErrors]:
    """« Demander un rattachement »: the structure, or one of its services; the comment is
    mandatory (as on Chorus Pro: the gestionnaire decides on it)."""
    errors = FormErrors()
    require(form, {"commentaire": "Commentaire pour expliquer votre demande"}, errors)
    comment = text(form, "commentaire")
    if comment and len(comment) > 1000:
        errors.add("commentaire", "Commentaire : 1 000 caractères au plus.")
    body: dict[str, Any] = {"structure": identifiant, "commentaire": comment}
    if text(form, "codeService"):
        body["codeService"] = text(form, "codeService")
    return body, errors


def approbation_decision(decision: str, form: Form) -> tuple[dict[str, Any], FormErrors]:
    """Approve (a comment if wished) or refuse (the reason is mandatory: the requester sees
    it)."""
    errors = FormErrors()
    if decision == "refuser":
        require(form, {"motif": "Motif du refus"}, errors)
        return {"commentaire": text(form, "motif")}, errors
    comment = text(form, "commentaireApprobation")
    return ({"commentaire": comment} if comment else {}), errors


def invitation(form: Form) -> tuple[dict[str, Any], FormErrors]:
    """« Rattacher un utilisateur »: the person's login address, the level, a message."""
    errors = FormErrors()
    require(form, {"email": "Adresse électronique de connexion de l'utilisateur"}, errors)
    body: dict[str, Any] = {"email": text(form, "email")}
    if text(form, "codeService"):
        body["codeService"] = text(form, "codeService")
    if text(form, "commentaire"):
        body["commentaire"] = text(form, "commentaire")
    return body, errors
