"""The webinar's journey (issue 8), played against running services over real HTTP, Kafka and
the database: `make demo` narrates it, `tests/e2e` asserts it. `browser_journey` plays the same
journey as people do it, in the portal (`make demo BROWSER=1`,
tests/e2e/test_webinar_browser.py)."""

from chorale_cli.journey.env import JourneyEnv, Mailbox
from chorale_cli.journey.runner import JourneyError, JourneyReport, run_journey

__all__ = ["JourneyEnv", "JourneyError", "JourneyReport", "Mailbox", "run_journey"]
