"""Which service listens to which integration event: declared before publishing.

RabbitMQ drops a message published to an exchange with no bound queue (delivery
contract 4). So the queues of every subscription are declared, durable and
bound, by the publisher's relay before it publishes, and by the consumer when
it starts; both declare them identically to nameko's ``SERVICE_POOL`` handlers.
A unit test keeps this list equal to the services' ``@integration_handler``s.
"""

from __future__ import annotations

from dataclasses import dataclass

from kombu import Exchange, Queue


@dataclass(frozen=True)
class Subscription:
    source: str
    event_type: str
    consumer: str
    handler: str

    @property
    def queue_name(self) -> str:
        return f"evt-{self.source}-{self.event_type}--{self.consumer}.{self.handler}"


SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription(
        "intake", "DemandReferred", "referral", "handle_intake_demand_referred"
    ),
    Subscription(
        "catalog",
        "QualificationChanged",
        "referral",
        "handle_catalog_qualification_changed",
    ),
    # the result of a referral, for the demand's first responder (8.3.5)
    Subscription(
        "referral", "ReferralFeedback", "intake", "handle_referral_referral_feedback"
    ),
    # evaluation keeps the facts of every case (9.1.2, 9.2.2)
    *(
        Subscription(source, event_type, "evaluation", handler)
        for source, event_type, handler in (
            ("intake", "DemandRegistered", "handle_intake_demand_registered"),
            ("intake", "DemandTaken", "handle_intake_demand_taken"),
            ("intake", "DemandHandedOver", "handle_intake_demand_handed_over"),
            ("intake", "ContractReviewed", "handle_intake_contract_reviewed"),
            ("intake", "NoticeViolation", "handle_intake_notice_violation"),
            ("intake", "DemandReferred", "handle_intake_demand_referred"),
            ("intake", "DemandResolved", "handle_intake_demand_resolved"),
            ("referral", "ReferralCompleted", "handle_referral_referral_completed"),
            (
                "complaints",
                "ComplaintReceived",
                "handle_complaints_complaint_received",
            ),
            (
                "complaints",
                "CorrectiveActionAgreed",
                "handle_complaints_corrective_action_agreed",
            ),
        )
    ),
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
