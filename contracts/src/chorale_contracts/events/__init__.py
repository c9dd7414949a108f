"""Every event payload, one module per topic. Importing this package registers them all."""

from chorale_contracts.events import (  # noqa: F401  (imported to register the payloads)
    directory,
    flows,
    habilitations,
    identity,
    invoice_status,
    invoices,
    notifications,
    structures,
)
