#!/usr/bin/env python3
"""`python3 deploy/local/infra.py provision|start|stop|status|env|versions|logs [...]`: the
command for the local Kafka + FerretDB (the package `chorale_infra` next to this file)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chorale_infra.cli import main

if __name__ == "__main__":
    sys.exit(main())
