"""The webinar's journey (issue 8), played against running services over real HTTP, Kafka and
the database: `make demo` narrates it, `tests/e2e` asserts it."""

from chorale_cli.journey.env import JourneyEnv, Mailbox
from chorale_cli.journey.runner import JourneyError, JourneyReport, run_journey

__all__ = ["JourneyEnv", "JourneyError", "JourneyReport", "Mailbox", "run_journey"]
