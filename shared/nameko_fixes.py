"""Two fixes to nameko 2.14.1: for a broker restart, and for a stop during start.

``QueueConsumer.ack_message`` / ``requeue_message`` guard against
``amqp.exceptions.ConnectionError`` only; when RabbitMQ restarts, the socket
raises ``ConnectionResetError`` / ``BrokenPipeError`` (``OSError``) instead, the
consumer's thread dies and nameko kills the whole container (seen in
tests/faults). An unacknowledged message is redelivered by the broker after the
reconnection, where our consumers recognise duplicates, so the error is safe to
ignore here.

``QueueConsumer.unregister_provider`` called while the consumer is still
starting signals "last provider gone" once per provider; the second signal
raises ("re-send() an already-triggered event") inside the container's stop,
which then never finishes (a service with many handlers, asked to stop right
after start, hung until killed). Signalling once is what was meant.

Importing this module applies the fixes once.
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


def _unregistering_once_while_starting(unregister):
    def unregister_provider(self, provider):
        if not self._consumers_ready.ready():
            if not self._last_provider_unregistered.ready():
                self._last_provider_unregistered.send()
            return None
        return unregister(self, provider)

    unregister_provider.qi_fixed = True
    return unregister_provider


if not getattr(QueueConsumer.unregister_provider, "qi_fixed", False):
    QueueConsumer.unregister_provider = _unregistering_once_while_starting(
        QueueConsumer.unregister_provider
    )
