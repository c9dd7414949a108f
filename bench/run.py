"""`make bench`: runs every benchmark (or those named) and prints their figures.

A benchmark is a module `bench/bench_<name>.py` with `async def run(ctx) -> list[Figure]`
(see `bench/harness.py`). Benchmarks that need Kafka and the database get them from
`ctx.infra()`, found like the tests find them (environment, Docker, local processes).

    make bench                      # all
    make bench BENCH_ARGS="intake"  # only bench_intake.py
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import Context, print_figures  # noqa: E402


def discover(names: list[str]) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    if names:
        found = [p for p in found if p.stem.removeprefix("bench_") in names]
    return found


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller workloads, for a smoke run")
    args = parser.parse_args()
    modules = discover(args.names)
    if not modules:
        print("no benchmark matches", args.names, file=sys.stderr)
        return 1
    ctx = Context(quick=args.quick)
    failed = 0
    try:
        for path in modules:
            spec = importlib.util.spec_from_file_location(path.stem, path)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            print(f"\n== {path.stem.removeprefix('bench_')} ==", flush=True)
            started = time.perf_counter()
            try:
                figures = await module.run(ctx)
            except Exception as exc:  # report and go on with the other benchmarks
                failed += 1
                print(f"  FAILED: {type(exc).__name__}: {exc}")
                continue
            print_figures(figures)
            print(f"  ({time.perf_counter() - started:.1f} s)")
    finally:
        ctx.close()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
