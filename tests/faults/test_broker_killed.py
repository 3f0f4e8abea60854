"""Fault: RabbitMQ killed with SIGKILL while demands are filed and referred,
then started again on the same data.

The broker is a private node made for this test (its own port, data folder
and node name), so killing it disturbs no other test using the shared broker.
What the relay counted as published had been confirmed, so written to disk
in a durable queue: it is still there after the kill. What was in flight is
published again; what a consumer had not acknowledged is delivered again.
Each demand is stored, referred and noted once.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from tests import support
from tests.api_client import DEMO_ACCOUNTS
from tests.faults import tally
from tests.faults.load import refer_during

DEMANDS = 60
SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"


class PrivateRabbit:
    """A RabbitMQ node of this test's own, started and killed as a process
    group (the start script and its Erlang VM)."""

    def __init__(self):
        if not os.path.exists(SERVER):
            pytest.fail("rabbitmq-server is missing: install Debian's rabbitmq-server")
        self.port = support.free_port()
        self.folder = tempfile.mkdtemp(prefix="qi-rabbit-")
        with open(f"{self.folder}/rabbitmq.conf", "w") as conf:
            conf.write(f"listeners.tcp.default = 127.0.0.1:{self.port}\n")
        with open(f"{self.folder}/enabled_plugins", "w") as plugins:
            plugins.write("[].\n")
        open(f"{self.folder}/env.conf", "w").close()  # not the system's
        self.env = {
            **os.environ,
            "RABBITMQ_NODENAME": f"qi-fault-{self.port}@localhost",
            "RABBITMQ_CONF_ENV_FILE": f"{self.folder}/env.conf",
            "RABBITMQ_CONFIG_FILE": f"{self.folder}/rabbitmq.conf",
            "RABBITMQ_ENABLED_PLUGINS_FILE": f"{self.folder}/enabled_plugins",
            "RABBITMQ_MNESIA_BASE": f"{self.folder}/mnesia",
            "RABBITMQ_LOG_BASE": f"{self.folder}/log",
            "RABBITMQ_DIST_PORT": str(support.free_port()),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }
        self.uri = f"amqp://guest:guest@127.0.0.1:{self.port}/"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> float:
        """Start the node; returns the seconds until it took connections."""
        began = time.monotonic()
        self.process = subprocess.Popen(
            [SERVER],
            env=self.env,
            stdout=open(f"{self.folder}/out", "a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def accepting() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"rabbitmq-server exited; see {self.folder}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return True
            except OSError:
                return False

        support.wait_for(accepting, timeout=timeout, interval=0.2)
        return time.monotonic() - began

    def kill(self) -> None:
        """SIGKILL to the node's process group: no clean-up of any kind."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def remove(self) -> None:
        self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.mark.slow_fault
def test_broker_killed_while_demands_are_referred(tmp_path, fault_report):
    broker = PrivateRabbit()
    urls, cleanup = support.database_urls("postgres", tmp_path)
    env = {
        "QI_AMQP_URI": broker.uri,
        "QI_VAR_DIR": str(tmp_path),
        "QI_SEED_ACCOUNTS": str(DEMO_ACCOUNTS),
        "QI_RPC_TIMEOUT_SECONDS": "5",
        **{f"QI_{s.upper()}_DATABASE_URL": urls[s] for s in tally.ON_POSTGRES},
    }
    services = support.ServicesProcess(env)
    took = []

    def kill_and_start_again() -> None:
        broker.kill()
        time.sleep(1.0)
        took.append(broker.start())

    try:
        broker.start()
        services.start(timeout=30)
        ids = refer_during(services.base_url, DEMANDS, kill_and_start_again, "k9")
        report = tally.settled_referral_outcome(urls, DEMANDS, timeout=90)
        fault_report(
            "RabbitMQ kill -9 under load",
            **report.figures,
            note=f"back after {took[0]:.1f} s; {report.note}",
        )
        report.assert_clean()
        assert len(ids) == DEMANDS
    except BaseException:
        print(services.output()[-6000:])  # what the services said, on failure
        raise
    finally:
        services.kill()
        broker.remove()
        cleanup()
