"""The provisioned Grafana dashboard only charts metrics the services really expose."""

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

ROOT = Path(__file__).resolve().parents[1]


def test_every_charted_metric_is_registered_by_the_code():
    import chorale_intake.metrics  # noqa: F401
    import chorale_notifications.metrics  # noqa: F401
    import chorale_runtime.metrics  # noqa: F401

    known = {metric.name for metric in REGISTRY.collect()}
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/suivi-des-flux.json").read_text())
    assert dashboard["title"] == "Suivi des flux"
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= set(re.findall(r"chorale_[a-z_]+", target["expr"]))
    bare = {re.sub(r"_(bucket|total|count|sum)$", "", m) for m in used}
    missing = {m for m in bare if m not in known and f"{m}_total" not in known}
    assert not missing, missing
    assert {"chorale_intake_flows", "chorale_consumer_lag"} <= bare
