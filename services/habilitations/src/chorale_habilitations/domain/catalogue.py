"""The application catalogue and its profiles (profile = application × mode)."""

from __future__ import annotations

from dataclasses import dataclass

from chorale_contracts.events.common import APPLICATION_LABELS, Application, Mode

MODES: tuple[Mode, ...] = (Mode.CONSULTATION, Mode.MODIFICATION)


def rank(mode: Mode | None) -> int:
    """Order of the modes: none < consultation < modification (modification includes it)."""
    return 0 if mode is None else (1 if Mode(mode) is Mode.CONSULTATION else 2)


@dataclass(frozen=True)
class Profile:
    application: Application
    mode: Mode

    @property
    def libelle(self) -> str:
        """As Chorus Pro shows it: « Factures reçues consultation »."""
        return f"{APPLICATION_LABELS[self.application]} {Mode(self.mode).value.lower()}"


def application_label(application: Application) -> str:
    return APPLICATION_LABELS[Application(application)]


def catalogue() -> list[dict]:
    """Every application, in the order of DESIGN.md, with its two profiles."""
    return [
        {
            "application": app.value,
            "libelle": APPLICATION_LABELS[app],
            "profils": [
                {"mode": mode.value, "libelle": Profile(app, mode).libelle} for mode in MODES
            ],
        }
        for app in Application
    ]
