"""A development mail catcher: an SMTP server (aiosmtpd) that stores every message it receives
as an .eml file and lists them over HTTP (`GET /messages`), so `make up` and `make demo` show the
mails Chorale sends without a real mail server. Not for production."""

from __future__ import annotations

import email
import email.policy
import logging
import os
import time
from pathlib import Path
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI


def read_mail(path: Path) -> dict[str, str]:
    """One stored message: its recipient, subject and plain-text body."""
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    body = msg.get_body(("plain",))
    return {"file": path.name, "to": str(msg["To"]), "subject": str(msg["Subject"]),
            "text": body.get_content() if body else ""}


class _Store:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # Written aside, then renamed: a reader never sees half a message, and a message read
        # once never changes (readers may keep what they parsed).
        name = f"{time.time_ns()}.eml"
        partial = self.folder / f".{name}.tmp"
        partial.write_bytes(envelope.original_content or envelope.content)
        partial.rename(self.folder / name)
        return "250 Message accepted"

    def messages(self) -> list[dict[str, str]]:
        return [read_mail(path) for path in sorted(self.folder.glob("*.eml"))]


def build(folder: Path) -> tuple[FastAPI, _Store]:
    # aiosmtpd logs every SMTP command at INFO ("mail.log"): tens of thousands of lines in a
    # test run, saying nothing the stored messages do not. Its warnings still show.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    store = _Store(folder)
    app = FastAPI(title="Chorale mail catcher (development)")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": "mailcatcher"}

    @app.get("/messages")
    async def messages() -> list[dict[str, str]]:
        return store.messages()

    return app, store


def main() -> None:
    folder = Path(os.environ.get("CHORALE_MAILCATCHER_DIR", "var/mail"))
    smtp_port = int(os.environ.get("CHORALE_SMTP_PORT", "2525"))
    http_port = int(os.environ.get("CHORALE_HTTP_PORT", "8025"))
    host = os.environ.get("CHORALE_SMTP_HOST", "127.0.0.1")
    app, store = build(folder)
    controller = Controller(store, hostname=host, port=smtp_port)
    controller.start()
    print(f"mail catcher: SMTP on {host}:{smtp_port}, messages in {folder}, "
          f"HTTP on {host}:{http_port}/messages", flush=True)
    try:
        uvicorn.run(app, host=host, port=http_port, log_level="warning")
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
