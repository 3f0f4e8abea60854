"""Fault: PostgreSQL restarts while demands are filed and referred.

The server is a private one made for this test (initdb in a temporary folder,
a port of its own), so restarting it disturbs no other test using the shared
server. Every session the services hold dies with it: commands in flight
fail and the client tries again, pools connect again, the relay takes its
lock again, and a handler that met the dead database puts its message back
rather than parking it. Each demand is stored once and referred once.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
import tempfile
import time

import pytest

from tests import support
from tests.api_client import DEMO_ACCOUNTS
from tests.faults import tally
from tests.faults.load import refer_during

DEMANDS = 60


class PrivatePostgres:
    """A PostgreSQL server of this test's own (trust auth, no fsync)."""

    def __init__(self):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            pytest.fail("pg_ctl is missing: install Debian's postgresql package")
        self.bin = found[-1].rsplit("/", 1)[0]
        self.port = support.free_port()
        self.folder = tempfile.mkdtemp(prefix="qi-pg-")
        shutil.chown(self.folder, "postgres", "postgres")
        self.data = f"{self.folder}/data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, tool: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", f"{self.bin}/{tool}", *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def _pg_ctl(self, *args: str) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=100"
        )
        self._as_postgres("pg_ctl", "-D", self.data, "-o", options, "-w", *args)

    def start(self) -> PrivatePostgres:
        self._as_postgres(
            "initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync"
        )
        self._pg_ctl("-l", f"{self.folder}/log", "start")
        return self

    def restart(self) -> None:
        """Fast shutdown (every session ends at once), then start again."""
        self._pg_ctl("-m", "fast", "-l", f"{self.folder}/log", "restart")

    def remove(self) -> None:
        try:
            self._pg_ctl("-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.mark.slow_fault
def test_postgres_restart_while_demands_are_referred(own_vhost, tmp_path, fault_report):
    postgres = PrivatePostgres()
    urls = {s: f"{postgres.url}?schema=qi_{s}" for s in tally.ON_POSTGRES}
    env = {
        "QI_AMQP_URI": own_vhost,
        "QI_VAR_DIR": str(tmp_path),  # catalog, complaints, gateway: SQLite
        "QI_SEED_ACCOUNTS": str(DEMO_ACCOUNTS),
        "QI_RPC_TIMEOUT_SECONDS": "5",
        **{f"QI_{s.upper()}_DATABASE_URL": url for s, url in urls.items()},
    }
    services = support.ServicesProcess(env)
    took = []

    def restart() -> None:
        began = time.monotonic()
        postgres.restart()
        took.append(time.monotonic() - began)

    try:
        postgres.start()
        services.start(timeout=30)
        ids = refer_during(services.base_url, DEMANDS, restart, "pg")
        restart_seconds = took[0]

        report = tally.settled_referral_outcome(urls, DEMANDS, timeout=60)
        fault_report(
            "PostgreSQL restart under load",
            **report.figures,
            note=f"restart took {restart_seconds:.1f} s; {report.note}",
        )
        extra = {
            oid: topic
            for oid, topic in tally.streams(urls["intake"]).items()
            if oid not in ids
        }
        assert extra == {}, "streams no client was answered with"
        report.assert_clean()
        assert len(ids) == DEMANDS
    except BaseException:
        print(services.output()[-6000:])  # what the services said, on failure
        raise
    finally:
        services.kill()
        postgres.remove()
