"""schemathesis against /openapi.json of the running platform, as every caller.

Every documented operation is called with generated input — valid by the
document (positive) and broken on purpose (negative: wrong types, unknown
fields, missing required ones, bad ids) — anonymously and with a token of
each role. Every check schemathesis has runs on each answer: no 5xx, the
status, content type, headers and body (its schema: the route's declared
answer, or the problem schema for a 4xx) as documented, broken input refused
with a 4xx, a login required where declared. Objects that exist (a demand,
its referral, a complaint) are among the ids tried, so generated bodies reach
the services' rules and not only the gateway's "not found".

A caller the operation is not for gets a couple of examples (its refusal is
decided before any input is read); a caller it is for gets more of each
kind. The same examples run every time (a red CI is a finding to reproduce,
not a roll of the dice; to explore wider, raise the counts or drop
derandomize).
"""

from __future__ import annotations

import json
import time

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

from services.gateway.accounts import ROLES
from tests import support
from tests.api_client import DEMO_ACCOUNTS, STAFF, ApiClient

# examples per operation for each caller: of each kind for a caller the
# operation is for, in all for one it refuses before reading anything
EXAMPLES_ALLOWED = 4
EXAMPLES_REFUSED = 1
PASSWORD = "fuzz-demo-2026"
# a caller of each role the demo province has no account for
EXTRA_ACCOUNTS = [
    {
        "username": "fuzz.handler",
        "display_name": "投诉处理（测试）",
        "role": "complaint_handler",
        "institution": "jsqi",
        "password": PASSWORD,
    },
    {
        "username": "fuzz.instadmin",
        "display_name": "机构管理员（测试）",
        "role": "institution_admin",
        "institution": "jsqi",
        "password": PASSWORD,
    },
]
FORM = {
    "applicant": "无锡某食品有限公司",
    "contact_phone": "13952012345",
    "service_item_code": "6.8",
    "description": "食品生产许可审查咨询",
    "channel": "wechat",
}
COMPLAINT = {
    "channel": "phone",
    "anonymous": False,
    "complainant_name": "刘女士",
    "complainant_phone": "13770001234",
    "description": "窗口人员未一次性告知所需材料",
    "remedy_requested": "说明原因并改进",
}
# a login ends by logging out: called last, so no other operation meets a
# token that generated input revoked
LAST = ("POST /api/v1/auth/logout",)


@schemathesis.check
def refusal_names_its_fields(ctx, response, case):
    """A 400 is problem+json naming each field it refuses: the one refusal
    positive_data_acceptance lets pass for valid input (see ``CONFIG``)."""
    if response.status_code != 400:
        return None
    problem = response.json()
    errors = problem.get("errors") or []
    if not errors or not all(e.get("field") and e.get("message") for e in errors):
        raise AssertionError(f"a 400 that names no field: {problem}")
    return None


load_all_checks()
# every check schemathesis has. use_after_free, ensure_resource_availability
# and object_level_authorization compare answers across a stateful run's
# steps; run one operation at a time they find nothing to compare (the access
# matrix test covers objects of another institution).
ALL_CHECKS = CHECKS.get_all()
# positive_data_acceptance expects input the document allows to be taken.
# Beyond any schema the services judge what values mean (a phone number's
# format, a date's order, a command the object's state does not allow yet:
# 7.4.2, 8.3) and refuse with a 400 naming the field, which
# refusal_names_its_fields checks; a generated Idempotency-Key may come again
# with another body (422). Every other answer to valid input still fails it.
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": [
                    "2xx",
                    "3xx",
                    "400",
                    "401",
                    "403",
                    "404",
                    "409",
                    "422",
                    "429",
                    "5xx",
                ]
            }
        }
    }
)


def accounts_file(path) -> str:
    demo = json.loads(DEMO_ACCOUNTS.read_text(encoding="utf-8"))
    demo["accounts"] = demo["accounts"] + EXTRA_ACCOUNTS
    path.write_text(json.dumps(demo, ensure_ascii=False), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def platform(amqp_uri, tmp_path_factory):
    support.delete_topology(amqp_uri)
    where = tmp_path_factory.mktemp("fuzz")
    services = support.ServicesProcess(
        {
            "QI_AMQP_URI": amqp_uri,
            "QI_VAR_DIR": str(where),
            "QI_SEED_ACCOUNTS": accounts_file(where / "accounts.json"),
            # generated logins, codes and anonymous writes must not lock out
            # the callers used here: the limits have tests of their own
            "QI_LOGIN_ATTEMPTS": "1000000",
            "QI_LOGIN_ADDRESS_ATTEMPTS": "1000000",
            "QI_PROGRESS_QUERIES_PER_MINUTE": "1000000",
            "QI_ANONYMOUS_WRITES_PER_HOUR": "1000000",
        }
    ).start(timeout=120)  # the accounts are opened (argon2) before it listens
    yield services
    services.kill()


def callers(base_url: str) -> dict[str, dict]:
    """The headers of each caller: anonymous, then one account per role."""
    demo = json.loads(DEMO_ACCOUNTS.read_text(encoding="utf-8"))["accounts"]
    found: dict[str, dict] = {"anonymous": {}}
    for role in ROLES:
        account = next(a for a in demo + EXTRA_ACCOUNTS if a["role"] == role)
        found[role] = {"Authorization": f"Bearer {login(base_url, account)}"}
    return found


def login(base_url: str, account: dict) -> str:
    """The account's token, once the gateway has opened the listed accounts
    (it does so after it answers /healthz)."""

    def token():
        answer = requests.post(
            f"{base_url}/api/v1/auth/login",
            json={"username": account["username"], "password": account["password"]},
            timeout=10,
        )
        return answer.json()["token"] if answer.status_code == 200 else None

    return support.wait_for(token, timeout=30, interval=0.5)


def existing_objects(base_url: str) -> dict[str, str]:
    """Path ids of objects that exist: a demand referred to a partner (and so
    its referral) and a complaint."""
    filed = requests.post(f"{base_url}/api/v1/demands", json=FORM, timeout=10)
    assert filed.status_code == 201, filed.text
    demand_id = filed.json()["id"]
    staff = ApiClient(base_url).login(*STAFF)
    staff.refer(demand_id)
    complaint = requests.post(
        f"{base_url}/api/v1/public/complaints", json=COMPLAINT, timeout=10
    )
    assert complaint.status_code == 201, complaint.text
    known = {"demand_id": demand_id, "complaint_id": complaint.json()["id"]}
    deadline = time.monotonic() + 20  # the referral service opens it on an event
    while time.monotonic() < deadline and "referral_id" not in known:
        for referral in staff.demand(demand_id)["referrals"]:
            known["referral_id"] = referral["id"]
        time.sleep(0.2)
    return known


def takes_input(operation) -> bool:
    raw = operation.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody"))


def may_call(operation, caller: str) -> bool:
    roles = operation.definition.raw.get("x-roles")
    if roles == "public":
        return True
    anonymous_too = {} in operation.definition.raw.get("security", [{"bearer": []}])
    return caller in roles or (caller == "anonymous" and anonymous_too)


def strategy(operation, mode: GenerationMode, known: dict[str, str]):
    """Generated cases, half of them (where the path names one) on an object
    that exists."""
    generated = operation.as_strategy(generation_mode=mode)
    names = {p.name for p in operation.path_parameters}
    if not names or not names <= set(known):
        return generated
    real = {name: known[name] for name in names}
    return st.one_of(
        generated, operation.as_strategy(generation_mode=mode, path_parameters=real)
    )


def examine(cases, headers: dict, examples: int):
    """A run of ``examples`` cases, each called with ``headers`` and checked
    by every check; ``run.called`` counts the calls it made."""
    called = []

    @given(case=cases)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # a finding as found, unshrunk
    )
    def call(case):
        called.append(case)
        case.call_and_validate(headers=headers, checks=ALL_CHECKS)

    def run() -> None:
        try:
            call()
        finally:
            run.called = len(called)

    run.called = 0
    return run


def test_no_operation_answers_5xx_or_breaks_the_document_for_any_caller(platform):
    api = schemathesis.openapi.from_url(
        f"{platform.base_url}/openapi.json", config=CONFIG
    )
    operations = sorted(
        (found.ok() for found in api.get_all_operations()),
        key=lambda operation: operation.label in LAST,
    )
    tokens = callers(platform.base_url)
    known = existing_objects(platform.base_url)
    print(f"\nobjects that exist: {sorted(known)}")
    failures: dict[str, str] = {}
    calls = 0
    started = time.monotonic()
    for operation in operations:
        for caller, headers in tokens.items():
            allowed = may_call(operation, caller)
            modes = [GenerationMode.POSITIVE]
            if allowed and takes_input(operation):  # else nothing to break
                modes.append(GenerationMode.NEGATIVE)
            for mode in modes:
                examples = EXAMPLES_ALLOWED if allowed else EXAMPLES_REFUSED
                run = examine(strategy(operation, mode, known), headers, examples)
                try:
                    run()
                except BaseException as failure:  # noqa: BLE001 - collected, then reported
                    if isinstance(failure, KeyboardInterrupt):
                        raise
                    label = f"{operation.label} as {caller} ({mode.value})"
                    failures[label] = str(failure)[:3000]
                calls += run.called
    took = time.monotonic() - started
    print(
        f"\n{len(operations)} operations × {len(tokens)} callers: {calls} examples "
        f"in {took:.0f} s, {len(failures)} failing"
    )
    assert len(operations) >= 140
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
