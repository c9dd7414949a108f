"""MongoDB adapters of the identity service (FerretDB 1.24 subset, DESIGN.md §4)."""
