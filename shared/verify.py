"""Verify the hash chain of every stream of the services that store events.

    python -m shared.verify            # every service (``make verify``), or: all
    python -m shared.verify intake     # one service

Prints one line per service (``intake: 30 stream(s) checked, 0 broken``),
before it a line for each altered stream (``ALTERED intake stream … version
…: …``) and one for each kind of event this key cannot read (``UNREADABLE
intake: … cannot be read: wrong or missing QI_CIPHER_KEY …``).

Exit status 0 when every stream holds; 1 when an event was altered (named);
2 when events cannot be read with the key this command found and nothing was
found altered. An event that cannot be decrypted or decoded is not called
altered, because the chain says nothing about it: the key (QI_CIPHER_KEY, or
the one ``make run`` keeps in QI_VAR_DIR/cipher.key, read through
``config.get`` as the services read it) is the first suspect, and a tamper
alarm raised by a missing key would teach operators to ignore tamper alarms.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from shared import config, system
from shared.application import Unreadable
from shared.hashchain import ChainBreak
from shared.persistence import DatabaseURL

# name -> module:Class of each event store, from the system's wiring
# (services/__init__.py, read through shared.system)
APPLICATIONS = {name: system.application_path(name) for name in system.STORING_EVENTS}
ALL = "all"
CANNOT_BE_READ = "cannot be read: wrong or missing QI_CIPHER_KEY"

OK, ALTERED, UNREADABLE = 0, 1, 2  # exit statuses


def application_for(service: str):
    return system.application_class(service)()


@dataclass
class ServiceReport:
    service: str
    checked: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    no_store: str = ""  # where the store would be, when there is none yet

    @property
    def status(self) -> int:
        if self.breaks:
            return ALTERED
        return UNREADABLE if self.unreadable else OK

    def lines(self, key_source: str) -> list[str]:
        """Its altered streams, its unreadable ones by reason, then its line."""
        if self.no_store:
            return [f"{self.service}: no event store yet ({self.no_store})"]
        out = [
            f"ALTERED {self.service} stream {b.originator_id} "
            f"version {b.version}: {b.reason}"
            for b in self.breaks
        ]
        by_reason: dict[str, list[Unreadable]] = {}
        for u in self.unreadable:
            by_reason.setdefault(u.why, []).append(u)
        for why, streams in by_reason.items():
            first = streams[0]
            out.append(
                f"UNREADABLE {self.service}: {len(streams)} stream(s) "
                f"{CANNOT_BE_READ} ({why}; key: {key_source}; first: stream "
                f"{first.originator_id} version {first.version})"
            )
        line = f"{self.service}: {self.checked} stream(s) checked, "
        line += f"{len(self.breaks)} broken"
        if self.unreadable:
            line += f", {len(self.unreadable)} {CANNOT_BE_READ}"
        return [*out, line]


def _missing_store(service: str) -> str:
    """The SQLite file a service would use, when it does not exist: verifying
    must not create an empty store (a PostgreSQL schema is checked as is)."""
    db = DatabaseURL.parse(config.database_url(service), service)
    if db.kind == "sqlite" and not Path(db.path).exists():
        return db.path
    return ""


def verify_application(app) -> ServiceReport:
    """Check every stream of an open application (``verify_stream``): an
    event it cannot read is counted as such, an altered one as a break."""
    report = ServiceReport(app.name)
    for originator_id in app.originator_ids():
        report.checked += 1
        found = app.verify_stream(originator_id)
        if isinstance(found, Unreadable):
            report.unreadable.append(found)
        elif found is not None:
            report.breaks.append(found)
    return report


def verify_service(service: str) -> ServiceReport:
    missing = _missing_store(service)
    if missing:
        return ServiceReport(service, no_store=missing)
    app = application_for(service)
    try:
        return verify_application(app)
    finally:
        app.close()


def key_problem(app) -> str | None:
    """Why this application's key cannot read its store, or None.

    Judged on the store's first event, which shows how the installation was
    keyed: a command that writes (the CSV import) stops here instead of
    adding plaintext to an encrypted store or ciphertext no service can read.
    """
    first = app.recorder.select_notifications(start=1, limit=1)
    if not first:
        return None
    why = app.why_unreadable(first[0])
    if why is None:
        return None
    return f"{app.name}: stored events {CANNOT_BE_READ} ({why}; key: {key_source()})"


def key_source() -> str:
    """Which key the services would use, for a message an operator acts on."""
    key, source = config.lookup("QI_CIPHER_KEY")
    return f"QI_CIPHER_KEY from {source}" if key else "none"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.verify")
    parser.add_argument(
        "service",
        nargs="?",
        default=ALL,
        choices=[*APPLICATIONS, ALL],
        help="one service, or all of them (the default)",
    )
    args = parser.parse_args(argv)
    services = list(APPLICATIONS) if args.service == ALL else [args.service]
    used = key_source()
    statuses = []
    for service in services:
        report = verify_service(service)
        for line in report.lines(used):
            print(line, flush=True)
        statuses.append(report.status)
    if ALTERED in statuses:
        return ALTERED
    return UNREADABLE if UNREADABLE in statuses else OK


if __name__ == "__main__":
    sys.exit(main())
