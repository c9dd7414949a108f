"""Chorale invoices: the invoice after it is made available (statuses, CDAR)."""
