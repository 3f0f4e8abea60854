"""Suggestions and periodic reviews over HTTP (9.3.1, 9.1.3, 9.2.2): a card
classified as a suggestion and the comments of a satisfied rating become
improvement items with a deadline; the half-year summary and the efficiency
review fall due on a schedule, and an overdue one shows on the manager's
board until it is done.

Services run in this process on the real RabbitMQ, stores on PostgreSQL.
"""

from datetime import datetime

from services.evaluation.rules import DIMENSIONS
from shared.calendar import SHANGHAI, calendar_from_env
from tests import support
from tests.integration import test_gateway_access as access_tests

backend = access_tests.backend
gateway = access_tests.gateway

IMPROVEMENTS = "/api/v1/evaluation/improvements"


def items_of(gateway, source: str) -> list[dict]:
    found = gateway.get(IMPROVEMENTS, "zhao")
    assert found.status_code == 200, found.text
    return [i for i in found.json()["items"] if i["source"] == source]


def test_a_suggestion_card_becomes_an_improvement_item_with_a_deadline(gateway):
    card = gateway.post(
        "/api/v1/comment-cards",
        {"source": "suggestion_box", "text": "希望增设周六上午的受理窗口"},
        "cheng",
    )
    assert card.status_code == 201, card.text
    card_id = card.json()["id"]
    assert items_of(gateway, "suggestion") == []
    classified = gateway.post(
        f"/api/v1/comment-cards/{card_id}/classification",
        {"kind": "suggestion"},
        "cheng",
    )
    assert classified.status_code == 200, classified.text
    (item,) = support.wait_for(lambda: items_of(gateway, "suggestion"), timeout=15)
    assert item["ref"] == card_id and "周六上午" in item["finding"]
    assert item["institution_id"] == "jsqi" and item["status"] == "open"
    opened = datetime.fromisoformat(item["opened_at"])
    due = calendar_from_env().deadline(opened, 20)  # 20 working days (9.3)
    assert datetime.fromisoformat(item["deadline"]) == due
    # another institution's manager does not see it
    assert gateway.get(IMPROVEMENTS, "othermgr").json()["items"] == []


def test_the_comments_of_a_satisfied_rating_become_an_improvement_item(gateway):
    filed = gateway.post("/api/v1/demands", access_tests.ONLINE_FORM).json()
    path = f"/api/v1/demands/{filed['id']}"
    gateway.post(f"{path}/take", who="wang")
    answer = {"outcome": "answered", "details": {"answer": "可按 GB 6675 检测"}}
    assert gateway.post(f"{path}/decision", answer, "wang").status_code == 200
    code = filed["progress_code"]
    (survey,) = support.wait_for(
        lambda: gateway.get("/api/v1/public/surveys", params={"code": code}).json()[
            "items"
        ],
        timeout=15,
    )
    rated = gateway.post(
        f"/api/v1/public/surveys/{survey['id']}/rating",
        {
            "code": code,
            "overall": "满意",
            "dimensions": dict.fromkeys(DIMENSIONS, "满意"),
            "comments": "建议在网站上公布各项目的收费标准",
        },
    )
    assert rated.status_code == 200, rated.text
    assert len(rated.json()["follow_up"]) == 1  # no call-back: satisfied
    (item,) = items_of(gateway, "rating_comment")
    assert item["ref"] == survey["id"] and "收费标准" in item["finding"]
    assert item["deadline"] and item["staff_id"] == "wang"


def board(gateway, on: str) -> list[dict]:
    answer = gateway.get("/api/v1/board", "zhao", params={"now": on})
    assert answer.status_code == 200, answer.text
    return {r["kind"]: r for r in answer.json()["reviews"]}


def test_reviews_fall_due_and_overdue_ones_show_on_the_board_until_done(gateway):
    gateway.post("/api/v1/demands", access_tests.ONLINE_FORM)  # jsqi has a case
    on_time = datetime(2026, 7, 20, 9, tzinfo=SHANGHAI).isoformat()
    late = datetime(2026, 11, 20, 9, tzinfo=SHANGHAI).isoformat()

    def due_now():
        found = board(gateway, late)
        return found if found["half_year"]["overdue"] else None

    found = support.wait_for(due_now, timeout=15)
    assert found["half_year"]["period"] == "2026-H1"
    assert found["half_year"]["due_on"] == "2026-07-30"
    assert found["efficiency"]["overdue"] and found["efficiency"]["due_on"] == (
        "2026-10-30"
    )
    early = board(gateway, on_time)
    assert not early["half_year"]["overdue"] and not early["efficiency"]["overdue"]

    summaries = "/api/v1/evaluation/half-year-summaries"
    drafted = gateway.post(summaries, {"year": 2026, "half": 1}, "zhao")
    assert drafted.status_code in (200, 201), drafted.text
    assert board(gateway, late)["half_year"]["overdue"]  # a draft is not done
    signed = gateway.post(
        f"{summaries}/{drafted.json()['id']}/sign-off", {"note": "同意"}, "zhao"
    )
    assert signed.status_code == 200, signed.text
    period = {
        "since": "2026-07-01T00:00:00+08:00",
        "until": "2026-10-01T00:00:00+08:00",
    }
    assessed = gateway.post(
        "/api/v1/evaluation/staff/wang/efficiency-assessments", period, "zhao"
    )
    assert assessed.status_code == 201, assessed.text
    done = board(gateway, late)
    assert done["half_year"]["done"] and not done["half_year"]["overdue"]
    assert done["efficiency"]["done"] and not done["efficiency"]["overdue"]
