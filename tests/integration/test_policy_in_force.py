"""An old case is judged by the policy in force when it started (issue 20,
item 9), over HTTP: after the admin changes an institution's limits, a
complaint received afterwards has the new deadline (9.4) and one received
before keeps the old; a survey of a service that ended afterwards has the new
rating window (9.2.1) and one before keeps the old. The stale-demand hours
(7.4.2) and the green channel's surcharge (7.4.5) are read from the policy
in force.

Services run in this process on the real RabbitMQ, stores on PostgreSQL.
"""

from datetime import datetime

from services.catalog.contract import POLICY_DEFAULTS
from shared import calendar
from shared.calendar import calendar_from_env
from shared.providers import application_of
from tests import support
from tests.integration import test_gateway_access as access_tests
from tests.integration.test_gateway_catalog_resources import QUOTE

backend = access_tests.backend
gateway = access_tests.gateway

POLICY = "/api/v1/catalog/policies/jsqi"


def complaint_of(gateway) -> dict:
    """A complaint filed online (about the front door, jsqi), as its handler
    reads it."""
    filed = gateway.post("/api/v1/public/complaints", access_tests.COMPLAINT)
    assert filed.status_code == 201, filed.text
    found = gateway.get(f"/api/v1/complaints/{filed.json()['id']}", "cheng")
    assert found.status_code == 200, found.text
    return found.json()


def survey_of(gateway) -> dict:
    """A demand filed online, answered at once by wang (the service ended):
    its satisfaction survey, as the applicant reads it by the progress code."""
    filed = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM).json()
    path = f"/api/v1/demands/{filed['id']}"
    assert gateway.post(f"{path}/take", who="wang").status_code == 200
    answer = {"outcome": "answered", "details": {"answer": "可按 GB 6675 检测"}}
    assert gateway.post(f"{path}/decision", answer, "wang").status_code == 200
    return support.wait_for(
        lambda: surveys_of(gateway, filed["progress_code"]), timeout=15
    )


def surveys_of(gateway, code: str) -> dict | None:
    """The applicant's survey, read by the progress code (None: not yet)."""
    found = gateway.get("/api/v1/public/surveys", params={"code": code})
    assert found.status_code == 200, found.text
    items = found.json()["items"]
    return {**items[0], "code": code} if items else None


def has_version(gateway, service: str, version: int) -> bool:
    """The service's copy of jsqi's policy has ``version`` in force now."""
    app = application_of(support.container_of(gateway.runner, service))
    return app.policy_at("jsqi", calendar.CLOCK())["version"] == version


def test_a_case_keeps_the_limits_in_force_when_it_started(gateway):
    days = calendar_from_env().deadline
    older_complaint = complaint_of(gateway)
    older_survey = survey_of(gateway)

    changed = gateway.post(
        f"{POLICY}/revision",
        {
            "limits": {"complaint_respond_days": 15, "survey_days": 8},
            "reason": "本市规定：投诉15个工作日内答复，评价期8个工作日",
        },
        "admin",
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 1
    for service in ("complaints", "evaluation"):
        support.wait_for(lambda s=service: has_version(gateway, s, 1), timeout=15)

    newer_complaint = complaint_of(gateway)
    newer_survey = survey_of(gateway)

    respond = POLICY_DEFAULTS["complaint_respond_days"]
    for complaint, version, respond_days in (
        (older_complaint, 0, respond),
        (newer_complaint, 1, 15),
    ):
        # read again: a later change never moves an old complaint's deadline
        found = gateway.get(f"/api/v1/complaints/{complaint['id']}", "cheng").json()
        received = datetime.fromisoformat(found["received_at"])
        assert found["policy_version"] == version
        due = datetime.fromisoformat(found["deadlines"]["respond"])
        assert due == days(received, respond_days), (version, found["deadlines"])
        close = datetime.fromisoformat(found["deadlines"]["close"])  # unchanged
        assert close == days(received, POLICY_DEFAULTS["complaint_close_days"])

    window = POLICY_DEFAULTS["survey_days"]
    for survey, version, survey_days in (
        (older_survey, 0, window),
        (newer_survey, 1, 8),
    ):
        found = surveys_of(gateway, survey["code"])  # read again
        ended = datetime.fromisoformat(found["ended_at"])
        assert found["policy_version"] == version
        assert datetime.fromisoformat(found["due_at"]) == days(ended, survey_days)


def test_the_stale_hours_and_the_surcharge_are_the_policys(gateway):
    filed = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM).json()
    registered = datetime.fromisoformat(filed["registered_at"])
    # the close of the second working day after: 8 to 24 working hours idle
    later = calendar_from_env().deadline(registered, 2).isoformat()

    def stale(**params) -> list[str]:
        found = gateway.get(
            "/api/v1/stale-demands", "zhao", params={"now": later, **params}
        )
        assert found.status_code == 200, found.text
        return [row["demand_id"] for row in found.json()["items"]]

    assert filed["id"] in stale()  # the default: 4 working hours
    changed = gateway.post(
        f"{POLICY}/revision",
        {
            "limits": {
                "stale_after_working_hours": 40,
                "green_channel_surcharge_percent": 50,
            },
            "reason": "本市规定",
        },
        "admin",
    )
    assert changed.status_code == 200, changed.text
    assert filed["id"] not in stale()  # the policy's 40 working hours
    assert filed["id"] in stale(working_hours=4)  # asked for: as asked

    green = {**QUOTE, "green_channel": True}
    drafted = gateway.post(f"/api/v1/demands/{filed['id']}/quotes", green, "wang")
    assert drafted.status_code == 201, drafted.text
    breakdown = drafted.json()["breakdown"]
    assert breakdown["surcharge_percent"] == "50", breakdown
