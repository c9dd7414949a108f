"""Runs pytest and treats "no tests collected" (exit code 5) as a failure, not a pass."""

import sys

import pytest

NO_TESTS_COLLECTED = 5

if __name__ == "__main__":
    code = pytest.main(sys.argv[1:])
    if code == NO_TESTS_COLLECTED:
        print("pytest collected no tests: treating it as a failure", file=sys.stderr)
        sys.exit(1)
    sys.exit(int(code))
