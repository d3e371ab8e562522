"""The shipped alert rules and dashboard read only metrics the code really exports,
and the rules file has the structure Prometheus loads (checked by ``promtool`` too,
where Debian's ``prometheus`` package is installed)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from newsflow.runtime.metrics import WorkerMetrics
from newsflow_gateway.metrics import GatewayMetrics

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
ALERTS = MONITORING / "alerts.yml"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "newsflow.json"
PROMETHEUS = MONITORING / "prometheus.yml"

#: The series each metric type exposes, after its family name.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
}
#: Series Prometheus itself adds to every scrape.
SCRAPE_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
#: PromQL words that look like metric names but are functions, keywords or aggregations.
PROMQL_WORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk",
    "bottomk", "quantile", "count_values", "rate", "irate", "increase", "deriv", "delta",
    "histogram_quantile", "clamp_min", "clamp_max", "abs", "absent", "time", "vector",
    "le", "service", "stream", "group", "route", "status", "method", "instance", "job",
}  # fmt: skip


def exported(registry: CollectorRegistry) -> set[str]:
    """Every series name the registry can expose, whether or not it has a sample yet."""
    return {
        family.name + suffix for family in registry.collect() for suffix in SUFFIXES[family.type]
    }


def known_series() -> set[str]:
    return exported(WorkerMetrics("ingest").registry) | exported(GatewayMetrics().registry)


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: identifiers outside strings, label
    matchers and range brackets, that are not PromQL words."""
    bare = re.sub(r'"[^"]*"', "", expr)
    bare = re.sub(r"\{[^}]*\}", "", bare)
    bare = re.sub(r"\[[^\]]*\]", "", bare)
    names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", bare))
    return {n for n in names if n not in PROMQL_WORDS and not re.fullmatch(r"\d.*", n)}


def load_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    assert set(document) == {"groups"}
    rules: list[dict[str, Any]] = []
    for group in document["groups"]:
        assert set(group) == {"name", "rules"}, group.keys()
        rules += group["rules"]
    return rules


def dashboard_exprs() -> list[str]:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [t["expr"] for panel in board["panels"] for t in panel["targets"]]


def test_the_code_exports_what_the_helpers_expect() -> None:
    """Guards the collector above: it must see real names, or the checks prove nothing."""
    series = known_series()
    assert {"newsflow_items_in_total", "newsflow_group_lag", "newsflow_worker_ready"} <= series
    assert "newsflow_gateway_request_seconds_bucket" in series
    assert "newsflow_items_in" not in series  # a counter's series ends in _total
    assert metric_names('sum by (le) (rate(a_b{x="c d"}[5m])) > 0.1 and up == 0') == {
        "a_b",
        "up",
    }


def test_every_alert_has_the_fields_prometheus_and_a_human_need() -> None:
    rules = load_rules()
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert re.fullmatch(r"Newsflow[A-Za-z]+", rule["alert"])
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["description"]
        if "for" in rule:
            assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["for"]
    assert len({r["alert"] for r in rules}) == len(rules)


def test_the_alerts_cover_what_the_operators_asked_for() -> None:
    names = {r["alert"]: r["expr"] for r in load_rules()}
    assert "deriv(newsflow_group_lag" in names["NewsflowGroupLagGrowing"]
    assert "newsflow_dead_letters_total" in names["NewsflowDeadLetters"]
    assert "newsflow_items_rejected_total" in names["NewsflowRejectionsSpiking"]
    assert "newsflow_worker_ready == 0" in names["NewsflowWorkerNotReady"]
    assert "histogram_quantile(0.99" in names["NewsflowGatewayLatencyHigh"]
    assert 'status=~"5.."' in names["NewsflowGatewayErrors"]


@pytest.mark.parametrize("source", ["alerts", "dashboard"])
def test_every_metric_used_is_exported_by_the_code(source: str) -> None:
    exprs = [r["expr"] for r in load_rules()] if source == "alerts" else dashboard_exprs()
    used = set().union(*(metric_names(e) for e in exprs))
    assert used, "no metric found: the parser is broken"
    assert used - known_series() - SCRAPE_SERIES == set()


def test_the_dashboard_has_a_panel_per_concern() -> None:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    titles = " | ".join(p["title"].lower() for p in board["panels"])
    for concern in ("throughput", "lag", "latency", "dead letters", "rejections", "status"):
        assert concern in titles, concern
    ids = [p["id"] for p in board["panels"]]
    assert len(set(ids)) == len(ids)
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_accepts_the_rules_and_the_scrape_config() -> None:
    for args in (["check", "rules", str(ALERTS)], ["check", "config", str(PROMETHEUS)]):
        result = subprocess.run(
            ["promtool", *args], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
