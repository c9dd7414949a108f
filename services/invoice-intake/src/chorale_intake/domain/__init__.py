"""Pure domain core of invoice intake: no I/O, no asyncio, no framework.

Entry points for the service layer:
- `analysis.analyse(raw, declared_syntax, max_bytes=...)` → `Analysis` (flow-level checks);
- `rules.check_invoice(facts, partner_identifier=..., recipient=..., today=..., is_duplicate=...)`
  → invoice-level errors; `rules.duplicate_key(facts)` for the duplicate index;
- `directory.RecipientEntry.model_validate(snapshot)` for the read model of the directory.
"""
