"""The webinar's journey (issue 8) against every service as its own process, over real HTTP,
the real broker and the real database — the same journey `make demo` narrates."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


async def test_the_webinar_journey_ends_as_in_the_webinar(journey):
    _stack, report, _ = journey
    statuses = {f.label: (f.statut, f.codes) for f in report.flows}
    assert statuses == {
        "valide.xml": ("IN_INTEGRE", []),
        "sans-code-service.xml": ("IN_REJETE", ["SERVICE_CODE_REQUIRED"]),
        "service-expire.xml": ("IN_REJETE", ["SERVICE_INACTIVE"]),
    }
    assert all(f.numero.startswith("FLX") for f in report.flows)
    subjects = {role: [m.subject for m in report.mails if email in m.to]
                for role, email in report.people.items()}
    assert any("facture" in s.lower() for s in subjects["user"])
    # Each rejected flow is told to the supplier: one mail each, or one grouped notice.
    rejections = [m.text for m in report.mails
                  if report.people["supplier"] in m.to and "rejet" in m.subject.lower()]
    rejected = [f.numero for f in report.flows if f.statut == "IN_REJETE"]
    assert len(rejected) == 2 and all(any(n in text for text in rejections) for n in rejected)
    assert any("gestionnaire principal" in s.lower() for s in subjects["gp"])
    assert len(report.steps) >= 25
    # 4 bis: the invoice was processed to « mise en paiement », each side told by mail.
    assert report.invoice_id.startswith("FAC")
    assert any("suspendue" in s.lower() for s in subjects["supplier"])
    assert any("mise en paiement" in s.lower() for s in subjects["supplier"])
    assert any("complétée" in s.lower() for s in subjects["user"])
