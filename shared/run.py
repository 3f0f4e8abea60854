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

import importlib  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from urllib.parse import urlparse  # noqa: E402

from kombu import Connection  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402

from shared import config, logs, metrics  # noqa: E402

log = logging.getLogger("qi.run")

SERVICE_CLASSES = {
    "intake": "services.intake.service:IntakeService",
    "referral": "services.referral.service:ReferralService",
    "gateway": "services.gateway.service:GatewayService",
}


def load(name: str):
    module_name, class_name = SERVICE_CLASSES[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)


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
    problem = rabbitmq_problem(config.get("QI_AMQP_URI"))
    if problem:
        print(problem, file=sys.stderr)
        return 1
    metrics.serve(config.get_int("QI_METRICS_PORT"))
    runner = ServiceRunner(config.nameko_config())
    for name in names:
        runner.add_service(load(name))

    def shutdown(signum, frame):
        log.info("stopping (signal %d)", signum)
        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    runner.start()
    log.info(
        "started %s; HTTP on http://%s", ", ".join(names), config.get("QI_HTTP_ADDRESS")
    )
    runner.wait()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
