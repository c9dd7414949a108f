"""What the invoices service listens to: the intake's integrated invoices, the directory, and
its own status changes (which become CDAR messages)."""

from __future__ import annotations

from chorale_contracts import Topic
from chorale_contracts.events.directory import DirectorySnapshot
from chorale_contracts.events.invoice_status import InvoiceStatusChanged
from chorale_contracts.events.invoices import InvoiceMadeAvailable
from chorale_invoices.adapters.directory_store import DirectoryStore
from chorale_invoices.service_layer.cdar_output import CdarOutput
from chorale_invoices.service_layer.lifecycle import Lifecycle
from chorale_runtime.consumer import Subscription


def invoices_subscription(lifecycle: Lifecycle) -> Subscription:
    return Subscription(
        name="invoices",
        topics=(Topic.INVOICES,),
        # `invoice.deposited` goes unhandled: its step arrives with `invoice.made_available`.
        handlers={InvoiceMadeAvailable.event_type: lifecycle.made_available},
        description="Integrated invoices enter « Factures reçues » / « Factures émises »",
    )


def directory_subscription(directory: DirectoryStore) -> Subscription:
    async def snapshot(_e: object, ev: DirectorySnapshot) -> None:
        await directory.put(ev)

    return Subscription(
        name="directory",
        topics=(Topic.DIRECTORY,),
        handlers={DirectorySnapshot.event_type: snapshot},
        description="Names, parameters (statutMiseEnPaiementNestPasRemonte) and services",
    )


def cdar_subscription(output: CdarOutput) -> Subscription:
    return Subscription(
        name="cdar",
        topics=(Topic.INVOICE_STATUS,),
        handlers={InvoiceStatusChanged.event_type: output.status_changed},
        description="Each status the supplier may see → a CDAR message (API and EDI out/)",
    )
