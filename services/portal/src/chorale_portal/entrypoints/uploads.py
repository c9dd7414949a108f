"""A file sent with a form (field `fichier`): refused before it is read when the request
declares more than the limit, then checked once received (present, not empty, not too large)."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from chorale_portal.domain.form_errors import FormErrors

# The form's other fields and the multipart framing, on top of the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024


def declared_too_large(request: Request, limit: int) -> bool:
    """A declared size beyond the limit: the body is never read (nor sent on)."""
    try:
        declared = int(request.headers.get("content-length") or 0)
    except ValueError:
        return False
    return declared > limit + FORM_OVERHEAD_BYTES


def uploaded_file(form: FormData, errors: FormErrors, *, limit: int, too_large: str,
                  missing: str | None) -> UploadFile | None:
    """The form's file, or None with the reason on the field (`missing` None: optional)."""
    file = form.get("fichier")
    if not isinstance(file, UploadFile) or not file.filename:
        if missing:
            errors.add("fichier", missing)
        return None
    if file.size is not None and file.size > limit:
        errors.add("fichier", too_large)
        return None
    if file.size == 0:
        errors.add("fichier", "Le fichier est vide.")
        return None
    return file
