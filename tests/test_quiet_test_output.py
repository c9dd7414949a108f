"""`make test` stays quiet: what services and test servers log is shown for failing tests only,
once, and the SMTP servers' per-command chatter not at all."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CASES = '''
import logging
import threading

from chorale_runtime.logging import configure


def test_passing_service_logs():
    configure("structures")
    logging.getLogger("svc").info("passing-line")
    logging.getLogger("mail.log").info("smtp-chatter")
    worker = threading.Thread(target=lambda: logging.getLogger("svc").info("thread-line"))
    worker.start()
    worker.join()


def test_failing_service_logs():
    logging.getLogger("svc").info("failing-line")
    logging.getLogger("mail.log").warning("smtp-warning")
    assert False
'''


def test_logs_show_for_failing_tests_only_and_once(tmp_path):
    (tmp_path / "test_cases.py").write_text(CASES)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir",
         str(ROOT), "-p", "chorale_runtime.testing.plugin", "-p", "no:cacheprovider",
         str(tmp_path / "test_cases.py")],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    out = run.stdout + run.stderr
    assert "1 failed, 1 passed" in out, out
    assert out.count('"event": "failing-line"') == 1, out  # the service's JSON line, once
    assert out.count('"event": "smtp-warning"') == 1, out
    for quiet in ("passing-line", "thread-line", "smtp-chatter", "Captured log"):
        assert quiet not in out, out
