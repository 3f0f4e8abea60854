"""Each fault test reports what it sent and what came of it, in one line.

``fault_report(...)`` prints the line (seen with ``pytest -s``) and keeps it;
at the end of the session every report is shown as one table, so
``make faults`` ends with the figures whatever the output capture.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests import support

COLUMNS = ("sent", "effects", "lost", "duplicated", "parked")


@dataclass(frozen=True)
class FaultReport:
    fault: str
    sent: int
    effects: int
    lost: int
    duplicated: int
    parked: int
    note: str = ""

    def line(self) -> str:
        figures = " ".join(f"{c}={getattr(self, c)}" for c in COLUMNS)
        note = f" ({self.note})" if self.note else ""
        return f"FAULT {self.fault}: {figures}{note}"


_REPORTS: list[FaultReport] = []


@pytest.fixture
def fault_report():
    """Record one fault's figures: ``fault_report("poison", sent=.., ...)``."""

    def record(fault: str, **figures) -> FaultReport:
        report = FaultReport(fault, **figures)
        _REPORTS.append(report)
        print(report.line())
        return report

    return record


@pytest.fixture
def own_vhost():
    """A RabbitMQ vhost for this test alone: requests a killed or hung service
    left in its RPC queue must not reach the next test's services."""
    vhost = support.create_vhost()
    yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    support.delete_vhost(vhost)


def pytest_terminal_summary(terminalreporter):
    if not _REPORTS:
        return
    width = max(len(r.fault) for r in _REPORTS)
    terminalreporter.section("faults: messages sent and what came of them")
    header = f"{'fault':<{width}} " + " ".join(f"{c:>10}" for c in COLUMNS)
    terminalreporter.write_line(header)
    for r in _REPORTS:
        figures = " ".join(f"{getattr(r, c):>10}" for c in COLUMNS)
        terminalreporter.write_line(f"{r.fault:<{width}} {figures}  {r.note}".rstrip())
