"""The habilitations domain: pure rules, no I/O (DESIGN.md §6 "Habilitations")."""
