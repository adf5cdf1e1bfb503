"""A pytest plugin for the harness: writes each test's verdict, as pytest's own
terminal categorises it, to the JSON file named by $BENCH_OUTCOMES.

Used once per real-suite benchmark, untimed, to compare serial pytest's per-test
outcomes with arun's (``arun report --format json``).  Load with
``-p outcome_recorder`` and this folder on PYTHONPATH.
"""

from __future__ import annotations

import json
import os

_phases: dict[str, dict[str, str]] = {}
_config = None


def pytest_configure(config) -> None:
    global _config
    _config = config


def pytest_runtest_logreport(report) -> None:
    category = _config.hook.pytest_report_teststatus(report=report, config=_config)[0]
    _phases.setdefault(report.nodeid, {})[report.when] = category or "passed"


def _verdict(phases: dict[str, str]) -> str:
    setup = phases.get("setup", "passed")
    if setup != "passed":
        return "error" if setup in ("error", "failed") else setup
    outcome = phases.get("call", "passed")
    if phases.get("teardown") in ("error", "failed") and outcome == "passed":
        return "error"  # pytest's "1 passed, 1 error"; arun records "error" too
    return outcome


def pytest_sessionfinish(session) -> None:
    path = os.environ.get("BENCH_OUTCOMES")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({nodeid: _verdict(p) for nodeid, p in _phases.items()}, f)
