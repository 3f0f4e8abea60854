"""A fix to nameko 2.14.1 that a broker restart needs.

``QueueConsumer.ack_message`` / ``requeue_message`` guard against
``amqp.exceptions.ConnectionError`` only; when RabbitMQ restarts, the socket
raises ``ConnectionResetError`` / ``BrokenPipeError`` (``OSError``) instead, the
consumer's thread dies and nameko kills the whole container (seen in
tests/faults). An unacknowledged message is redelivered by the broker after the
reconnection, where our consumers recognise duplicates, so the error is safe to
ignore here. Importing this module applies the fix once.
"""

from __future__ import annotations

import logging

from nameko.messaging import QueueConsumer

log = logging.getLogger(__name__)


def _tolerating_broken_sockets(settle):
    def settle_message(self, message):
        try:
            settle(self, message)
        except OSError as exc:
            log.warning("broker connection lost while settling a message: %s", exc)

    settle_message.__name__ = settle.__name__
    settle_message.qi_fixed = True
    return settle_message


if not getattr(QueueConsumer.ack_message, "qi_fixed", False):
    QueueConsumer.ack_message = _tolerating_broken_sockets(QueueConsumer.ack_message)
    QueueConsumer.requeue_message = _tolerating_broken_sockets(
        QueueConsumer.requeue_message
    )
