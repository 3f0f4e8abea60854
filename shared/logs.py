"""Log lines that carry the service name and the case's correlation id."""

from __future__ import annotations

import contextvars
import logging

from shared import audit

current_service: contextvars.ContextVar[str] = contextvars.ContextVar(
    "qi_service", default="-"
)

FORMAT = (
    "%(asctime)s %(levelname)s [%(service)s] [corr=%(correlation_id)s] "
    "%(name)s: %(message)s"
)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.service = current_service.get()
        record.correlation_id = audit.current().correlation_id or "-"
        return True


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("amqp", "kombu", "nameko", "urllib3", "psycopg.pool"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
