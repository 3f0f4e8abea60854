"""Which service listens to which integration event: declared before publishing.

RabbitMQ drops a message published to an exchange with no bound queue (delivery
contract 4). So the queues of every subscription are declared, durable and
bound, by the publisher's relay before it publishes, and by the consumer when
it starts; both declare them identically to nameko's ``SERVICE_POOL`` handlers.
The subscriptions are the system's wiring (``services/__init__.py``, read
through ``shared.system``); a unit test keeps them equal to the services'
``@integration_handler``s.
"""

from __future__ import annotations

from dataclasses import dataclass

from kombu import Exchange, Queue

from shared import system


@dataclass(frozen=True)
class Subscription:
    source: str
    event_type: str
    consumer: str
    handler: str

    @property
    def queue_name(self) -> str:
        return f"evt-{self.source}-{self.event_type}--{self.consumer}.{self.handler}"


# which service listens to which event: declared once, in services/__init__.py
SUBSCRIPTIONS: tuple[Subscription, ...] = tuple(
    Subscription(*declared) for declared in system.SUBSCRIPTIONS
)


def event_exchange(source: str) -> Exchange:
    """``<source>.events``, the same exchange nameko declares for that service."""
    return Exchange(
        f"{source}.events",
        type="topic",
        durable=True,
        delivery_mode=2,
        auto_delete=False,
    )


def queue_for(subscription: Subscription) -> Queue:
    return Queue(
        subscription.queue_name,
        exchange=event_exchange(subscription.source),
        routing_key=subscription.event_type,
        durable=True,
        auto_delete=False,
        exclusive=False,
    )


def subscriptions_of(source: str) -> list[Subscription]:
    return [s for s in SUBSCRIPTIONS if s.source == source]


def declare_for_source(channel, source: str) -> None:
    """Declare ``source``'s exchange and every queue subscribed to it."""
    event_exchange(source)(channel).declare()
    for subscription in subscriptions_of(source):
        queue_for(subscription)(channel).declare()
