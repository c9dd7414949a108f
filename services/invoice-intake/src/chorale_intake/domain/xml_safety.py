"""Parse untrusted bytes into an lxml tree, or reject them with a flow-level error.

Defences, in order:
1. size: empty / whitespace-only (EMPTY_FILE) and over `max_bytes` (FILE_TOO_LARGE) are decided
   on the raw bytes, before any parser sees them;
2. the parse never substitutes entities, never loads a DTD, never touches the network, keeps
   libxml2's resource limits (`huge_tree=False`: depth 256, entity amplification), and a
   resolver refuses every external resource outright, whatever the options say;
3. a parsed document with any DOCTYPE (internal subset or external DTD) is rejected
   (XML_FORBIDDEN_DTD), from libxml2's own document info, not from a substring search;
4. a document the parser refused is probed for a DOCTYPE before the root element (with a
   parser *target*, so libxml2's tokenizer decides, in any encoding): hostile DTDs that make
   the parse fail (billion laughs hits the amplification limit) are still XML_FORBIDDEN_DTD,
   anything else is XML_MALFORMED with its line and column.

Parsers are not shareable between threads: each call builds its own (cheap).
"""

from __future__ import annotations

from functools import lru_cache

from lxml import etree

from chorale_intake.domain.errors import IntakeRejected, RuleCode, rule_error

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# libxml2 refuses deeper documents unless XML_PARSE_HUGE (huge_tree) is set, which we never do.
LIBXML2_MAX_DEPTH = 256
DEFAULT_MAX_DEPTH = LIBXML2_MAX_DEPTH

_UTF8_BOM = b"\xef\xbb\xbf"
_MAGIC_HINTS = (
    (b"PK\x03\x04", "archive ZIP"),
    (b"PK\x05\x06", "archive ZIP"),
    (b"%PDF", "document PDF"),
    (b"\x1f\x8b", "fichier compressé gzip"),
    (b"\xd0\xcf\x11\xe0", "document bureautique OLE"),
)


class _ExternalResourceRefused(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class _RefuseExternal(etree.Resolver):
    """Any attempt to load a DTD, an external entity or an XInclude aborts the parse."""

    def resolve(self, system_url, public_id, context):
        raise _ExternalResourceRefused(system_url or public_id or "?")


class _RootReached(Exception):
    pass


class _DoctypeFound(Exception):
    def __init__(self, declaration: str) -> None:
        super().__init__(declaration)
        self.declaration = declaration


class _PrologProbe:
    """Parser target: reports a DOCTYPE, stops at the root element."""

    def doctype(self, name: str | None, public_id: str | None, system_url: str | None) -> None:
        parts = [f"<!DOCTYPE {name or ''}"]
        if public_id:
            parts.append(f'PUBLIC "{public_id}"')
        if system_url:
            parts.append(f'SYSTEM "{system_url}"')
        raise _DoctypeFound(" ".join(parts) + ">")

    def start(self, tag: str, attrib: object, nsmap: object = None) -> None:
        raise _RootReached

    def close(self) -> None:
        return None


def _parser_options() -> dict[str, bool]:
    return {
        "resolve_entities": False,
        "no_network": True,
        "load_dtd": False,
        "dtd_validation": False,
        "attribute_defaults": False,
        "huge_tree": False,
        # Never collect_ids=False: with libxml2 < 2.15 lxml sets XML_SKIP_IDS in `loadsubset`,
        # and any non-zero `loadsubset` makes libxml2 fetch the external DTD subset.
    }


def hardened_parser() -> etree.XMLParser:
    """A fresh parser for untrusted XML. Not thread-safe: one per call or per thread."""
    parser = etree.XMLParser(**_parser_options())
    parser.resolvers.add(_RefuseExternal())
    return parser


def _forbidden(detail: str) -> IntakeRejected:
    return IntakeRejected(rule_error(RuleCode.XML_FORBIDDEN_DTD, detail=detail, value=detail[:200]))


_PROBE_CHUNK = 64 * 1024


def _probe_prolog(raw: bytes) -> None:
    """Raise XML_FORBIDDEN_DTD if a DOCTYPE comes before the root element. Fed in chunks, so
    the work stops soon after the root element starts, whatever the size of the file."""
    parser = etree.XMLParser(target=_PrologProbe(), **_parser_options())
    parser.resolvers.add(_RefuseExternal())
    try:
        for offset in range(0, len(raw), _PROBE_CHUNK):
            parser.feed(raw[offset : offset + _PROBE_CHUNK])
        parser.close()
    except _DoctypeFound as found:
        raise _forbidden(found.declaration) from None
    except _ExternalResourceRefused as refused:
        raise _forbidden(f"ressource externe {refused.url}") from None
    except (_RootReached, etree.XMLSyntaxError):
        return  # no DOCTYPE before the root element


def _is_blank(raw: bytes) -> bool:
    body = raw[len(_UTF8_BOM) :] if raw.startswith(_UTF8_BOM) else raw
    return not body or body.isspace()


def _malformed(exc: etree.XMLSyntaxError, raw: bytes) -> IntakeRejected:
    line, column = exc.position if exc.position else (exc.lineno, None)
    message = (exc.msg or str(exc)).strip()
    if "Excessive depth" in message:
        detail = (
            f"profondeur d'imbrication supérieure à {LIBXML2_MAX_DEPTH} niveaux "
            f"(ligne {line}, colonne {column})"
        )
    else:
        detail = f"{message} (ligne {line}, colonne {column})"
        hint = next((label for magic, label in _MAGIC_HINTS if raw.startswith(magic)), None)
        if hint:
            detail = f"le fichier semble être un(e) {hint}, pas un document XML ; {detail}"
    return IntakeRejected(
        rule_error(RuleCode.XML_MALFORMED, line=line, column=column, detail=detail)
    )


@lru_cache(maxsize=16)
def _deeper_than(max_depth: int) -> etree.XPath:
    # The root is at depth 1, so an element at max_depth + 1 means too deep.
    return etree.XPath("boolean(" + "/*" * (max_depth + 1) + ")")


def parse_safely(
    raw: bytes,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> etree._Element:
    """Return the root element of `raw`, or raise `IntakeRejected` (flow-level error).

    `max_depth` can only lower libxml2's own limit of 256 levels (which stays in force without
    `huge_tree`); a greater value acts as 256.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise TypeError(f"parse_safely expects bytes, got {type(raw).__name__}")
    raw = bytes(raw)
    size = len(raw)
    if size == 0:
        raise IntakeRejected(rule_error(RuleCode.EMPTY_FILE))
    if size > max_bytes:
        raise IntakeRejected(
            rule_error(RuleCode.FILE_TOO_LARGE, size=size, limit=max_bytes, value=str(size))
        )
    if _is_blank(raw):
        raise IntakeRejected(rule_error(RuleCode.EMPTY_FILE))

    try:
        root = etree.fromstring(raw, hardened_parser())
    except _ExternalResourceRefused as refused:
        raise _forbidden(f"ressource externe {refused.url}") from None
    except etree.XMLSyntaxError as exc:
        _probe_prolog(raw)
        raise _malformed(exc, raw) from None

    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _forbidden(docinfo.doctype or "DTD")

    if max_depth < LIBXML2_MAX_DEPTH and _deeper_than(max_depth)(root.getroottree()):
        raise IntakeRejected(
            rule_error(
                RuleCode.XML_MALFORMED,
                detail=f"profondeur d'imbrication supérieure à {max_depth} niveaux",
            )
        )
    return root
