"""Event types this domain asks the service layer to publish on ``chorale.identity.v1``.

These are the ``event_type`` values of ``chorale_contracts.events.identity`` (payload schemas
live there); a test checks that every one of them is registered in the contracts.
"""

USER_REGISTERED = "user.registered"
USER_VERIFIED = "user.verified"
USER_PROFILE_UPDATED = "user.profile_updated"
USER_VERIFICATION_REQUESTED = "user.verification_requested"
USER_DEACTIVATED = "user.deactivated"

RATTACHEMENT_REQUESTED = "rattachement.requested"
RATTACHEMENT_INVITED = "rattachement.invited"
RATTACHEMENT_APPROVED = "rattachement.approved"
RATTACHEMENT_REFUSED = "rattachement.refused"
RATTACHEMENT_DETACHED = "rattachement.detached"

GESTIONNAIRE_DESIGNATED = "gestionnaire.designated"
GESTIONNAIRE_TRANSFERRED = "gestionnaire.transferred"

TECHNICAL_ACCOUNT_CREATED = "technical_account.created"
TECHNICAL_ACCOUNT_SECRET_ROTATED = "technical_account.secret_rotated"
TECHNICAL_ACCOUNT_REVOKED = "technical_account.revoked"

ALL = (
    USER_REGISTERED,
    USER_VERIFIED,
    USER_PROFILE_UPDATED,
    USER_VERIFICATION_REQUESTED,
    USER_DEACTIVATED,
    RATTACHEMENT_REQUESTED,
    RATTACHEMENT_INVITED,
    RATTACHEMENT_APPROVED,
    RATTACHEMENT_REFUSED,
    RATTACHEMENT_DETACHED,
    GESTIONNAIRE_DESIGNATED,
    GESTIONNAIRE_TRANSFERRED,
    TECHNICAL_ACCOUNT_CREATED,
    TECHNICAL_ACCOUNT_SECRET_ROTATED,
    TECHNICAL_ACCOUNT_REVOKED,
)
