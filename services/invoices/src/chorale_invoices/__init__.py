"""Chorale invoices: the invoice after it is made available (Factures reçues / émises, statuses, CDAR)."""
