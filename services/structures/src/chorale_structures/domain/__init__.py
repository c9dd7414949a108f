"""Pure domain core of the structures service: models, rules, error codes, events.

No I/O here. Every operation returns the new state and the contract event payloads to store
in the outbox with it (``Outcome(state, events)``), or raises :class:`DomainError`.
"""

from .attachments import MAX_ATTACHMENT_BYTES, Attachment, UploadInspector, inspect_upload
from .bank import CoordonneeBancaire, iban_from_rib, rib_key, validate_bic, validate_iban
from .csv_import import (
    ImportOutcome,
    RowRejection,
    ServiceRow,
    StructureRow,
    apply_service_row,
    apply_structure_row,
    classify,
    iter_import_rows,
)
from .directory import directory_csv_rows, routing_snapshot
from .errors import DomainError, ErrorCode
from .events import Outcome
from .identifiers import TypeIdentifiant, validate_identifier
from .parameters import ParametresStructure, PresenceMOA
from .requests import StructureRequest, accept, refuse
from .services import (
    RESERVED_SERVICE_CODE,
    Service,
    StatutService,
    is_active_on,
    new_service,
    normalize_service_code,
)
from .structures import (
    StatutStructure,
    Structure,
    TypeStructure,
    activate,
    apply_update,
    deactivate,
    new_private_structure,
    new_public_structure,
)

__all__ = [
    "MAX_ATTACHMENT_BYTES",
    "RESERVED_SERVICE_CODE",
    "Attachment",
    "CoordonneeBancaire",
    "DomainError",
    "ErrorCode",
    "ImportOutcome",
    "Outcome",
    "ParametresStructure",
    "PresenceMOA",
    "RowRejection",
    "Service",
    "ServiceRow",
    "StatutService",
    "StatutStructure",
    "Structure",
    "StructureRequest",
    "StructureRow",
    "TypeIdentifiant",
    "TypeStructure",
    "UploadInspector",
    "accept",
    "activate",
    "apply_service_row",
    "apply_structure_row",
    "apply_update",
    "classify",
    "deactivate",
    "directory_csv_rows",
    "iban_from_rib",
    "inspect_upload",
    "is_active_on",
    "iter_import_rows",
    "new_private_structure",
    "new_public_structure",
    "new_service",
    "normalize_service_code",
    "refuse",
    "rib_key",
    "routing_snapshot",
    "validate_bic",
    "validate_iban",
    "validate_identifier",
]
