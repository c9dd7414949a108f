"""The portal's wording: what each code means to a person, in French."""

from __future__ import annotations

from chorale_portal.domain.formatting import amount_fr, date_time_fr, percent_fr

# Messages shown after a redirect (`?message=<key>`): a fixed list, so a link can never make
# the portal display text of the sender's choosing.
NOTICES: dict[str, str] = {
    "compte_cree": "Votre demande est enregistrée. Si l'adresse n'a pas encore de compte, un "
                   "message vient de lui être envoyé : ouvrez le lien qu'il contient pour "
                   "confirmer votre adresse.",
    "adresse_confirmee": "Votre adresse est confirmée. Vous pouvez vous connecter.",
    "lien_envoye": "Si un compte actif correspond à cette adresse, un message contenant un lien "
                   "de réinitialisation vient de lui être envoyé.",
    "mot_de_passe_reinitialise": "Votre mot de passe est changé. Connectez-vous avec le nouveau.",
    "deconnecte": "Vous êtes déconnecté.",
    "session_terminee": "Votre session a pris fin : connectez-vous de nouveau.",
    "profil_modifie": "Vos informations sont enregistrées.",
    "mot_de_passe_change": "Votre mot de passe est changé.",
    "adresse_contact_envoyee": "Un lien de confirmation vient d'être envoyé à la nouvelle "
                               "adresse de contact. Elle sera utilisée dès sa confirmation.",
    "adresse_contact_confirmee": "Votre nouvelle adresse de contact est confirmée.",
    "totp_active": "La double authentification est activée.",
    "totp_desactive": "La double authentification est désactivée.",
    "compte_desactive": "Votre compte est désactivé.",
    "invitation_acceptee": "Invitation acceptée : vous êtes rattaché à la structure. Vos droits "
                           "seront effectifs dans quelques instants.",
    "invitation_refusee": "Invitation refusée : vous n'êtes pas rattaché à la structure.",
    "structure_creee": "La structure est créée ; vous en êtes le gestionnaire principal. Vos "
                       "droits seront effectifs dans quelques instants.",
    "structure_modifiee": "Les informations de la structure sont enregistrées.",
    "parametres_modifies": "Les paramètres sont enregistrés.",
    "demande_creation_envoyee": "Votre demande de création est transmise à l'opérateur.",
    "demande_desactivation_envoyee": "Votre demande de désactivation est transmise à "
                                     "l'opérateur.",
    "service_cree": "Le service est créé.",
    "service_modifie": "Le service est modifié.",
    "service_active": "Le service est activé.",
    "service_desactive": "Le service est désactivé.",
    "coordonnees_ajoutees": "Les coordonnées bancaires sont ajoutées.",
    "coordonnees_modifiees": "Les coordonnées bancaires sont modifiées.",
    "coordonnees_desactivees": "Les coordonnées bancaires sont désactivées.",
    "piece_ajoutee": "La pièce jointe est ajoutée.",
    "piece_supprimee": "La pièce jointe est supprimée.",
    "facture_deposee": "Votre facture est déposée : voici le compte rendu de son flux.",
    "import_lance": "Le fichier est reçu : l'import est lancé.",
    "demande_acceptee": "La demande est acceptée.",
    "demande_refusee": "La demande est refusée ; le demandeur en est informé.",
    "envoi_relance": "L'envoi est relancé : il repart dans quelques instants.",
    "gp_designe": "Le gestionnaire principal est désigné ; ses droits seront effectifs dans "
                  "quelques instants.",
}

PARAMETERS: list[tuple[str, str, str]] = [
    ("codeServiceDoitEtreRenseigne", "Code service obligatoire",
     "Les factures adressées à la structure doivent indiquer un code service existant et "
     "actif ; sinon elles sont rejetées au dépôt."),
    ("numeroEJDoitEtreRenseigne", "Numéro d'engagement obligatoire",
     "Les factures doivent indiquer un numéro d'engagement juridique (bon de commande, "
     "marché) ; sinon elles sont rejetées."),
    ("gestionNumeroEJOuCodeService", "Code service ou numéro d'engagement",
     "Il suffit que la facture indique l'un des deux : un code service ou un numéro "
     "d'engagement. Incompatible avec les deux obligations ci-dessus."),
    ("statutMiseEnPaiementNestPasRemonte", "Ne pas communiquer la mise en paiement",
     "Le statut « Mise en paiement » de vos factures n'est pas montré aux fournisseurs."),
    ("recevoirDonneesViaEDI", "Recevoir les factures par EDI",
     "Les factures sont transmises à votre système d'information par échange de données "
     "informatisé. Donnée de référence : seul l'opérateur la modifie."),
]

PRESENCE_MOA: dict[str, str] = {
    "SANS_MOA": "Sans maîtrise d'ouvrage : la structure ne reçoit pas de factures de travaux.",
    "AVEC_MOA": "Avec maîtrise d'ouvrage : la structure reçoit aussi des factures de travaux.",
    "EXCLUSIVEMENT_MOA": "Exclusivement maîtrise d'ouvrage : la structure ne reçoit que des "
                         "factures de travaux.",
}

STATUS: dict[str, str] = {
    "ACTIVE": "Active", "INACTIVE": "Inactive", "ACTIF": "Actif", "INACTIF": "Inactif",
    "PUBLIQUE": "Publique", "PRIVEE": "Privée", "EN_ATTENTE": "En attente",
    "ACCEPTEE": "Acceptée", "REFUSEE": "Refusée",
    "RECU": "Reçu", "EN_COURS": "En cours", "TERMINE": "Terminé", "ECHEC": "Échec",
    "FAILED": "En échec", "PENDING": "En attente d'envoi", "SENT": "Envoyé",
    "SENDING": "En cours d'envoi", "DISABLED": "Désactivé",
    "CREATION_STRUCTURE_PUBLIQUE": "Création d'une structure publique",
    "DESACTIVATION_STRUCTURE": "Désactivation d'une structure",
    "PORTAIL": "Portail", "EDI": "EDI", "API": "API",
}

IDENTIFIER_TYPES: dict[str, str] = {
    "SIRET": "SIRET", "UE_HORS_FRANCE": "Union européenne hors France",
    "HORS_UE": "Hors Union européenne", "RIDET": "RIDET (Nouvelle-Calédonie)",
    "TAHITI": "Numéro Tahiti", "AUTRE": "Autre",
}

RESERVED_SERVICE = "FACTURES_PUBLIQUES"


def status(code: str | None) -> str:
    return STATUS.get(code or "", code or "")


def date_fr(value: str | None) -> str:
    """2026-01-31 → 31/01/2026 (dates and timestamps as the services give them)."""
    if not value:
        return ""
    day = value[:10]
    parts = day.split("-")
    return "/".join(reversed(parts)) if len(parts) == 3 else value


# -- invoices and flows (Déposer une facture, back office) -----------------------------------
FLOW_STATUS: dict[str, str] = {
    "IN_RECU": "Reçu", "IN_EN_ATTENTE_TRAITEMENT": "En attente de traitement",
    "IN_EN_COURS_TRAITEMENT": "En cours de traitement", "IN_INTEGRE": "Intégré",
    "IN_REJETE": "Rejeté", "IN_INCIDENTE": "En incident (erreur technique)",
}
STATUS.update({"DEPOSEE": "Déposée", "MISE_A_DISPOSITION": "Mise à disposition"})


def flow_status(code: str | None) -> str:
    return FLOW_STATUS.get(code or "", code or "")


def euros(value: object) -> str:
    """1234.5 → « 1 234,50 € »."""
    return amount_fr(str(value), "EUR")


def rate(value: object) -> str:
    """5.5 → « 5,5 % »."""
    return percent_fr(str(value))


# -- people: rattachements, habilitations, approbations, users, raccordements ----------------
NOTICES.update({
    "rattachement_demande": "Votre demande de rattachement est envoyée aux gestionnaires de "
                            "la structure. Vous la suivez ici.",
    "detache": "Vous êtes détaché. Vos habilitations liées à ce rattachement prennent fin.",
    "demande_approuvee": "La demande est approuvée : la personne est rattachée.",
    "demande_refusee": "La demande est refusée ; le demandeur voit votre motif.",
    "utilisateur_invite": "L'invitation est enregistrée. Si l'adresse correspond à un compte, "
                          "la personne est prévenue et la voit dans « Mes invitations ».",
    "habilitations_modifiees": "Les habilitations sont enregistrées.",
    "habilitations_supprimees": "Toutes les habilitations de cette personne sur la structure "
                                "sont supprimées.",
    "gp_transfere": "Le rôle de gestionnaire principal est transféré.",
    "compte_technique_revoque": "Le compte technique est révoqué : son secret ne sert plus.",
})

RATTACHEMENT_STATES: dict[str, str] = {
    "EN_COURS_DE_VALIDATION": "En cours de validation", "VALIDEE": "Validée",
    "REFUSEE": "Refusée", "DESACTIVEE": "Désactivée",
}

MODES: dict[str, str] = {"": "Aucune", "CONSULTATION": "Consultation",
                         "MODIFICATION": "Modification"}

TECHNICAL_STATES: dict[str, str] = {"ACTIVE": "Actif", "REVOKED": "Révoqué"}


def rattachement_state(code: str | None) -> str:
    return RATTACHEMENT_STATES.get(code or "", code or "")


def datetime_fr(value: str | None) -> str:
    """2026-01-31T14:05:00+00:00 → 31/01/2026 15:05 (Paris time, as people read it)."""
    return date_time_fr(value)
