"""Services tune the cyclic garbage collector once their app is built."""

from __future__ import annotations

import subprocess
import sys


def test_startup_objects_are_frozen_and_young_collections_are_rarer():
    # In a process of its own: the test runner's collector stays as it is.
    code = (
        "import gc; from chorale_runtime.serve import tune_gc; "
        "before = gc.get_freeze_count(); tune_gc(); "
        "print(before, gc.get_freeze_count() > before, *gc.get_threshold())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["0", "True", "10000", "20", "20"]
