"""The invoices service's own Prometheus metrics (`service` label, `chorale_` prefix)."""

from prometheus_client import Counter, Gauge

STATUS_CHANGES = Counter(
    "chorale_invoice_status_changes", "Invoice status changes stored", ["service", "actor"])
CDAR_WRITTEN = Counter(
    "chorale_cdar_messages", "CDAR lifecycle messages produced", ["service", "code"])
INDEXED_INVOICES = Gauge(
    "chorale_invoices_indexed", "Invoices held by the lists' in-memory index", ["service"])
