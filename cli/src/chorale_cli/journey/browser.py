"""The portal in a real browser: Debian's chromium driven by Playwright (which cannot download
its own browsers on these machines), with what every browser test and the demo need — opening
pages, filling the portal's fields, submitting, photographing each screen at desktop and phone
widths and checking it with axe-core, reading the mail a page made the services send."""

from __future__ import annotations

import contextlib
import re
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pyotp
from playwright.async_api import Page, async_playwright

from chorale_cli.journey.env import Mailbox
from chorale_cli.journey.http import Api, eventually

ROOT = Path(__file__).resolve().parents[4]
ARTIFACTS = ROOT / "var" / "test-artifacts" / "portal"
AXE_SCRIPT = ROOT / "tests" / "e2e" / "vendor" / "axe-core" / "axe.min.js"
TIMEOUT = 60
LINK = re.compile(r"https?://[^\s<>\"]+")
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => ['serious', 'critical'].includes(v.impact))
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "chromium is not installed: run `make browser` (apt-get install chromium)"
    return path


@contextlib.asynccontextmanager
async def browser_page(headless: bool = True) -> AsyncIterator[Page]:
    """A French-speaking desktop page in a fresh browser context."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium(), headless=headless,
            args=["--no-sandbox", "--disable-dev-shm-usage"])
        # axe-core is injected by the checks: the portal's own CSP forbids inline scripts.
        context = await browser.new_context(bypass_csp=True, locale="fr-FR",
                                            viewport={"width": 1280, "height": 900})
        try:
            yield await context.new_page()
        finally:
            await context.close()
            await browser.close()


class Authenticator:
    """A person's authenticator app: RFC 6238 codes, each time step used once (identity
    refuses a replayed code), waiting for the next step when every usable one is spent."""

    def __init__(self) -> None:
        self.last_step = -1

    async def code(self, secret: str) -> str:
        async def usable_step() -> int | None:
            now = int(time.time()) // 30
            # A later step than the last one, within identity's window (now ± 1).
            return max(self.last_step + 1, now) if self.last_step <= now else None

        step = await eventually(usable_step, TIMEOUT, "a TOTP step not used yet", interval=1)
        self.last_step = step
        return pyotp.TOTP(secret).generate_otp(step)


class PortalBrowser:
    """One person's browser on the portal of a running stack, and the services' APIs to check
    what the pages did."""

    def __init__(self, page: Page, base: str, stack, http: httpx.AsyncClient,
                 artifacts: Path = ARTIFACTS, check_accessibility: bool = True):
        self.page, self.base, self.stack, self.http = page, base, stack, http
        self.mailbox = Mailbox(stack.mail_dir)
        self.artifacts = artifacts
        self.check_accessibility = check_accessibility
        self.screens: list[str] = []

    # -- the browser ---------------------------------------------------------------------
    async def open(self, path: str) -> None:
        await self.page.goto(self.base + path)

    async def submit(self, button: str) -> None:
        async with self.page.expect_navigation():
            await self.page.get_by_role("button", name=button).click()

    async def fill(self, values: dict[str, str]) -> None:
        """Fill the portal's fields by name (`#champ-<name>`)."""
        for name, value in values.items():
            await self.page.fill(f"#champ-{name}", value)

    async def text(self) -> str:
        return await self.page.inner_text("body")

    async def look(self, name: str) -> None:
        """Screenshot at desktop and phone widths, then axe-core on the page: no serious or
        critical violation, no sideways scrolling at 390 px, the page in French."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        page = self.page
        await page.screenshot(path=self.artifacts / f"{name}.png", full_page=True)
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.screenshot(path=self.artifacts / f"{name}-390px.png", full_page=True)
        width = await page.evaluate("document.documentElement.scrollWidth")
        await page.set_viewport_size({"width": 1280, "height": 900})
        self.screens.append(name)
        if not self.check_accessibility:
            return
        assert width <= 390, f"{name}: the page scrolls sideways at 390 px ({width} px)"
        await page.add_script_tag(content=AXE_SCRIPT.read_text())
        violations = await page.evaluate(AXE_RUN)
        assert violations == [], f"{name}: {violations}"
        assert await page.get_attribute("html", "lang") == "fr"

    async def report_failure(self, services: tuple[str, ...]) -> None:
        """What the page and the services said, for a failed test's output."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=self.artifacts / "echec.png", full_page=True)
        print(f"----- page {self.page.url}\n{(await self.page.inner_text('body'))[:2000]}")
        for service in services:
            print(f"----- {service}\n" + self.stack.logs(service)[-4000:])

    # -- the services' APIs, to check what the pages did ----------------------------------
    def api(self, service: str, token: str | None = None) -> Api:
        return Api(self.http, self.stack.url(service), token)

    async def sign_in_api(self, email: str, password: str) -> str:
        answer = await self.api("identity").call(
            "POST", "/v1/auth/login", json={"email": email, "password": password})
        return answer["accessToken"]

    async def link_in_mail(self, to: str, path: str, already: int = 0) -> str:
        """The `already`-th link to `path` in the mails sent to `to`, once it arrived."""
        def found() -> str | None:
            links = [link for mail in self.mailbox.to(to) for link in LINK.findall(mail.text)
                     if urlparse(link).path == path]
            return links[already] if len(links) > already else None

        return await eventually(found, TIMEOUT, f"a mail to {to} linking to {path}")
