"""Four fixes to nameko 2.14.1 — for a broker restart, a broker down when a
reply is due, a stop during start and a message body that cannot be decoded —
and one addition: an RPC worker knows its request message's id.

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

``RpcConsumer.handle_result`` publishes an RPC's reply; with the broker down
(killed, seconds to come back) the publish raises once its retries are spent,
the worker's thread dies and nameko kills the whole container (seen in
tests/faults). The reply cannot be delivered anyway: the caller gives up after
its timeout and calls again (with its idempotency key), so the failure is
logged and the service keeps running.

A message whose body cannot be decoded (not JSON, not UTF-8) never reaches
its handler: kombu logs it and acknowledges it, so it is lost (seen in
tests/faults). ``QueueConsumer.on_decode_error`` now hands it to the handler
of the queue it came from, if that handler can take it (``handle_undecodable``:
``@integration_handler`` parks it); other consumers keep kombu's behaviour.

``Rpc.unpack_message_headers`` also puts the request message's
``correlation_id`` in the worker's context data, for ``shared/rpc_requests.py``
to make a redelivered request take effect once.

Importing this module applies the fixes once.
"""

from __future__ import annotations

import logging
from functools import partial

import amqp.exceptions
import kombu.exceptions
from nameko.messaging import QueueConsumer
from nameko.rpc import Rpc, RpcConsumer

from shared.rpc_requests import CONTEXT_KEY

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


def _handing_undecodable_messages_over(on_decode_error):
    def on_decode_error_(self, message, exc):
        tag = message.delivery_info.get("consumer_tag")
        for provider, consumer in list(self._consumers.items()):
            takes_it = getattr(provider, "handle_undecodable", None)
            if takes_it is not None and tag in consumer._active_tags.values():
                self.container.spawn_managed_thread(
                    partial(takes_it, message, exc),
                    identifier=f"{type(provider).__name__}.handle_undecodable",
                )
                return None
        return on_decode_error(self, message, exc)

    on_decode_error_.__name__ = "on_decode_error"
    on_decode_error_.qi_fixed = True
    return on_decode_error_


if not getattr(QueueConsumer.on_decode_error, "qi_fixed", False):
    QueueConsumer.on_decode_error = _handing_undecodable_messages_over(
        QueueConsumer.on_decode_error
    )


def _surviving_an_undeliverable_reply(handle_result):
    def handle_result_(self, message, result, exc_info):
        try:
            return handle_result(self, message, result, exc_info)
        except (
            kombu.exceptions.OperationalError,
            amqp.exceptions.ConnectionError,
            OSError,
        ) as exc:
            log.warning("broker unreachable, an RPC reply was not sent: %s", exc)
            return result, exc_info

    handle_result_.__name__ = "handle_result"
    handle_result_.qi_fixed = True
    return handle_result_


if not getattr(RpcConsumer.handle_result, "qi_fixed", False):
    RpcConsumer.handle_result = _surviving_an_undeliverable_reply(
        RpcConsumer.handle_result
    )


def _with_request_id(unpack):
    """An RPC worker's context data carries its message's ``correlation_id``,
    the same on every delivery (shared/rpc_requests.py)."""

    def unpack_message_headers(self, message):
        data = unpack(self, message)
        data[CONTEXT_KEY] = message.properties.get("correlation_id") or ""
        return data

    unpack_message_headers.qi_fixed = True
    return unpack_message_headers


if not getattr(Rpc.unpack_message_headers, "qi_fixed", False):
    Rpc.unpack_message_headers = _with_request_id(Rpc.unpack_message_headers)
