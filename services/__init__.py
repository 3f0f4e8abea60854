"""The system's wiring, declared once: which services make the platform and
which consumer handles which integration event.

Every service is named with the dotted paths (``module:Class``) of its nameko
service class and of the eventsourcing application that stores its events,
and whether it answers ``case_events`` / ``verify_case`` for the case history
a regulator reads (the gateway merges those). Every subscription names the
source of an integration event, its type, the consumer and that consumer's
``@integration_handler`` (``handle_<source>_<event in snake case>``); an
event published with no consumer on purpose is in ``PUBLIC_ONLY``, with why.

Data only, importing nothing: the kernel reads it through ``shared.system``
(``make run``, ``make verify``, ``make parked``, one database per service, and
the queues every relay declares before it publishes, delivery contract 4)
without loading any service, and every per-service image holds it, since
deploy/Dockerfile copies ``services/__init__.py`` into each.
``tests/unit/test_topology.py`` keeps the subscriptions equal to the
services' ``@integration_handler``s.
"""

from typing import NamedTuple


class Service(NamedTuple):
    name: str
    service_class: str  # module:Class of the nameko service
    application_class: str  # module:Class of its event store ("" if none)
    answers_cases: bool  # case_events / verify_case for the case history


class Subscription(NamedTuple):
    source: str
    event_type: str
    consumer: str
    handler: str


SERVICES: tuple[Service, ...] = (
    Service(
        "intake",
        "services.intake.service:IntakeService",
        "services.intake.application:IntakeApplication",
        True,
    ),
    Service(
        "referral",
        "services.referral.service:ReferralService",
        "services.referral.application:ReferralApplication",
        True,
    ),
    Service(
        "catalog",
        "services.catalog.service:CatalogService",
        "services.catalog.application:CatalogApplication",
        True,
    ),
    Service(
        "complaints",
        "services.complaints.service:ComplaintsService",
        "services.complaints.application:ComplaintsApplication",
        True,
    ),
    Service(
        "evaluation",
        "services.evaluation.service:EvaluationService",
        "services.evaluation.application:EvaluationApplication",
        True,
    ),
    # the platform's messages to the people outside it: e-mail, SMS, inbox
    Service(
        "notify",
        "services.notify.service:NotifyService",
        "services.notify.application:NotifyApplication",
        False,
    ),
    # accounts and the regulator's audit reads are hash-chained events too
    Service(
        "gateway",
        "services.gateway.service:GatewayService",
        "services.gateway.accounts:GatewayApplication",
        False,
    ),
)

# the services whose events make up a demand's case history, in this order
CASE_SERVICES: tuple[str, ...] = tuple(s.name for s in SERVICES if s.answers_cases)

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
    # referral, complaints and evaluation keep every version of the service
    # policies: a case is judged by the limits in force when it started
    *(
        Subscription(
            "catalog", "PolicyChanged", consumer, "handle_catalog_policy_changed"
        )
        for consumer in ("referral", "complaints", "evaluation")
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
            # a suggestion card: an improvement item with a deadline (9.3.1)
            (
                "complaints",
                "SuggestionReceived",
                "handle_complaints_suggestion_received",
            ),
        )
    ),
    # what must reach a person outside the platform (services/notify/policy.py)
    *(
        Subscription(source, event_type, "notify", handler)
        for source, event_type, handler in (
            (
                "intake",
                "MaterialsNoticeIssued",
                "handle_intake_materials_notice_issued",
            ),
            # in-house service near or past its due date (8.3.2, 8.3.5)
            ("intake", "InHouseReminded", "handle_intake_in_house_reminded"),
            ("intake", "InHouseEscalated", "handle_intake_in_house_escalated"),
            ("referral", "ReferralSent", "handle_referral_referral_sent"),
            ("referral", "ReferralAccepted", "handle_referral_referral_accepted"),
            ("referral", "ReferralDueSoon", "handle_referral_referral_due_soon"),
            ("referral", "ReferralEscalated", "handle_referral_referral_escalated"),
            ("referral", "ReferralCompleted", "handle_referral_referral_completed"),
            ("evaluation", "SurveyIssued", "handle_evaluation_survey_issued"),
            ("evaluation", "SurveyReminded", "handle_evaluation_survey_reminded"),
            (
                "evaluation",
                "ImprovementItemEscalated",
                "handle_evaluation_improvement_item_escalated",
            ),
            (
                "complaints",
                "ComplaintAcknowledged",
                "handle_complaints_complaint_acknowledged",
            ),
            (
                "complaints",
                "ComplaintDecided",
                "handle_complaints_complaint_decided",
            ),
        )
    ),
)

# Events published with no consumer inside the platform, on purpose: for a
# subscriber outside it (a regulator's data exchange), RabbitMQ drops them
# until one binds a queue; delivery contract 4 holds for every other event.
# (source, event type, why); tests/unit/test_published_events.py fails on an
# event published that is neither subscribed to nor listed here.
PUBLIC_ONLY: tuple[tuple[str, str, str], ...] = (
    (
        "evaluation",
        "SatisfactionRated",
        "evaluation keeps and shows each rating and opens the call-back of an "
        "unsatisfied one itself (9.2.1); nothing else here acts on a rating",
    ),
    (
        "evaluation",
        "EfficiencyAssessed",
        "evaluation keeps the assessment and its history (9.2.2); its figures "
        "name a staff member, so no other service is given them",
    ),
    (
        "evaluation",
        "HalfYearSummarySignedOff",
        "evaluation keeps the signed summary and answers for it (9.1.3); "
        "nothing here acts on a sign-off",
    ),
)
