"""Start the platform's services in one process: ``python -m shared.run``.

Checks RabbitMQ first and says in one line what to do if it is not there.
Ctrl-C (or SIGTERM) stops every service gracefully.
"""

from __future__ import annotations

import warnings

# the stack is pinned to eventlet (nameko 2.14); its deprecation notice is known
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()  # noqa: E402 - must precede every other import

import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from urllib.parse import urlparse  # noqa: E402

from kombu import Connection  # noqa: E402

from shared import config, logs, metrics, persistence, system, trust  # noqa: E402

log = logging.getLogger("qi.run")

STOP_GRACE_SECONDS = 15.0

# name -> module:Class of each service, from the system's wiring
# (services/__init__.py, read through shared.system)
SERVICE_CLASSES = {name: system.service_path(name) for name in system.SERVICES}


def load(name: str):
    return system.service_class(name)


def rabbitmq_problem(uri: str) -> str | None:
    """None if RabbitMQ answers, else a one-line explanation."""
    try:
        with Connection(uri, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
        return None
    except Exception as exc:  # noqa: BLE001 - reported as one line
        where = urlparse(uri)
        return (
            f"RabbitMQ is not reachable at {where.hostname}:{where.port or 5672} "
            f"({type(exc).__name__}). Start it with `rabbitmq-server -detached` "
            "(or `systemctl start rabbitmq-server`), or point QI_AMQP_URI at one."
        )


def run_in_this_process(names: list[str]) -> int:
    metrics.serve(config.get_int("QI_METRICS_PORT"), config.get("QI_METRICS_ADDRESS"))
    # each service as its own broker user when it has one (shared/trust.py)
    runner = trust.ServiceRunner(config.nameko_config())
    for name in names:
        runner.add_service(load(name))

    signals_seen = []

    def shutdown(signum, frame):
        signals_seen.append(signum)
        if len(signals_seen) == 1:
            log.info("stopping (signal %d); again to stop at once", signum)
            eventlet.spawn_n(stop_within, STOP_GRACE_SECONDS)
        else:
            log.warning("stopping at once")
            eventlet.spawn_n(runner.kill)

    def stop_within(seconds: float) -> None:
        """Let workers finish; whatever hangs past ``seconds`` is killed."""
        try:
            with eventlet.Timeout(seconds):
                runner.stop()
        except eventlet.Timeout:
            log.warning("services did not stop within %.0fs; killing them", seconds)
            for container in runner.containers:
                busy = [str(w.entrypoint) for w in container._worker_threads]
                managed = [str(t) for t in container._managed_threads.values()]
                if busy or managed:
                    log.warning(
                        "%s still running: workers %s, threads %s",
                        container.service_name,
                        busy,
                        managed,
                    )
            runner.kill()

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    runner.start()
    log.info(
        "started %s; HTTP on http://%s", ", ".join(names), config.get("QI_HTTP_ADDRESS")
    )
    runner.wait()
    log.info("stopped")
    return 0


def run_one_process_each(names: list[str]) -> int:
    """One child process per service, so they use every core; metrics of the
    n-th child on QI_METRICS_PORT + n."""
    base_port = config.get_int("QI_METRICS_PORT")
    children = []
    for offset, name in enumerate(names):
        env = {**os.environ, "QI_PROCESSES": "one"}
        env["QI_METRICS_PORT"] = str(base_port + offset if base_port else 0)
        children.append(
            subprocess.Popen([sys.executable, "-m", "shared.run", name], env=env)
        )

    def forward(signum, frame):
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    codes = [child.wait() for child in children]
    return max(codes, key=abs)


def main(argv: list[str]) -> int:
    logs.configure(config.get("QI_LOG_LEVEL"))
    names = argv or [n.strip() for n in config.get("QI_SERVICES").split(",") if n]
    unknown = [n for n in names if n not in SERVICE_CLASSES]
    if unknown:
        print(
            f"unknown or not yet built service(s): {', '.join(unknown)}; "
            f"available: {', '.join(SERVICE_CLASSES)}",
            file=sys.stderr,
        )
        return 2
    # then refuse weak secrets; make run's broker users (shared/trust.py)
    problem = rabbitmq_problem(config.get("QI_AMQP_URI")) or trust.prepare(names)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    key = persistence.installation_cipher_key(names)
    if key:  # read by every service of this process and of its children
        os.environ["QI_CIPHER_KEY"] = key
    if config.get("QI_PROCESSES") == "per-service" and len(names) > 1:
        return run_one_process_each(names)
    return run_in_this_process(names)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
