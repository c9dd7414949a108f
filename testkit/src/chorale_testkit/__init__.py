"""Test kit: what tests, benchmarks and the demo make to feed the services, kept out of the
services' production packages.

- `invoices`: realistic, XSD-valid UBL and CII invoices (`make_invoice`, `make_ubl_invoice`,
  `make_cii_invoice`, `invoice_amounts`);
- `facturx`: Factur-X PDFs embedding such an invoice (reportlab and factur-x, development
  dependencies of the workspace, imported only when a PDF is made);
- `hostile_xml`: XML that attacks parsers (`BILLION_LAUGHS`);
- `hostile_zip`: ZIP bombs (`zip_bomb`);
- `identity_accounts`: an active identity account written straight through the repository.

The infrastructure side of testing (real Kafka and database, namespaces, in-process servers,
tokens, purity checks) is `chorale_runtime.testing`.
"""
