"""Sessions that can be ended (issue 18): disabling an account, changing its
role or password, and logging out (the API's and the console's) refuse the
account's old tokens at once, on every gateway instance; a new login works.
And a stranger guessing a known name locks it out only from his own address.

Two gateway instances run in this process on the real RabbitMQ, sharing
their database (PostgreSQL), as two replicas behind a load balancer would.
A token is refused before any other service is asked, so none runs.
"""

import json

import pytest
import requests

from services.gateway.service import GatewayService
from tests import support

PASSWORD = "correct-horse-9"
ACCOUNTS = [
    ("admin", "admin", ""),
    ("wang", "staff", "jsqi"),
    ("liqiang", "staff", "jsqi"),
]


@pytest.fixture
def backend():
    return "postgres"


@pytest.fixture
def gateways(databases, runner_factory, tmp_path, monkeypatch):
    seed = tmp_path / "accounts.json"
    accounts = [
        {
            "username": name,
            "display_name": f"测试{name}",
            "role": role,
            "institution": institution,
            "password": PASSWORD,
        }
        for name, role, institution in ACCOUNTS
    ]
    seed.write_text(json.dumps({"accounts": accounts}), encoding="utf-8")
    monkeypatch.setenv("QI_SEED_ACCOUNTS", str(seed))
    monkeypatch.setenv("QI_GATEWAY_SECRET", "test-secret-" + "x" * 32)
    # the tests stand behind a proxy on 127.0.0.1 that names the client
    monkeypatch.setenv("QI_TRUSTED_PROXIES", "127.0.0.1")
    monkeypatch.setenv("QI_LOGIN_ATTEMPTS", "5")
    monkeypatch.setenv("QI_LOGIN_ADDRESS_ATTEMPTS", "8")
    first = runner_factory(GatewayService, http_port=support.free_port())
    second = runner_factory(GatewayService, http_port=support.free_port())
    return f"http://{first.http_address}", f"http://{second.http_address}"


def login(base: str, username: str, password: str = PASSWORD, client="192.0.2.1"):
    return requests.post(
        f"{base}/api/v1/auth/login",
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": client},
        timeout=10,
    )


def token_of(base: str, username: str, password: str = PASSWORD) -> str:
    answer = login(base, username, password)
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def me(base: str, token: str):
    return requests.get(f"{base}/api/v1/me", headers=bearer(token), timeout=10)


def admin_does(base: str, username: str, command: str, body: dict):
    return requests.post(
        f"{base}/api/v1/accounts/{username}/{command}",
        json=body,
        headers=bearer(token_of(base, "admin")),
        timeout=10,
    )


def assert_ended(answer) -> None:
    """401 as problem+json, saying in Chinese why and what to do."""
    assert answer.status_code == 401, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert "登录已失效" in answer.json()["detail"]
    assert "重新登录" in answer.json()["detail"]


def test_disabling_an_account_ends_its_sessions_on_every_instance(gateways):
    here, there = gateways
    token = token_of(here, "wang")
    assert me(there, token).status_code == 200  # the other instance honours it
    # a write: the token is taken (403 is a logged-in caller the role refuses)
    write = requests.post(f"{there}/api/v1/accounts", json={}, headers=bearer(token))
    assert write.status_code == 403, write.text

    disabled = admin_does(here, "wang", "disable", {"reason": "离职"})
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert_ended(me(there, token))
    assert_ended(me(here, token))
    write = requests.post(f"{there}/api/v1/accounts", json={}, headers=bearer(token))
    assert_ended(write)
    assert login(there, "wang").status_code == 401  # disabled: no new login

    assert admin_does(there, "wang", "enable", {}).status_code == 200
    fresh = token_of(there, "wang")
    assert me(here, fresh).json()["username"] == "wang"
    assert_ended(me(here, token))  # enabling does not revive the old token


def test_a_changed_role_ends_the_tokens_that_carry_the_old_one(gateways):
    here, there = gateways
    token = token_of(here, "wang")
    assert me(there, token).json()["role"] == "staff"
    bad = admin_does(here, "wang", "role", {"role": "manager", "institution": ""})
    assert bad.status_code == 400  # a manager acts for an institution
    assert me(there, token).status_code == 200  # refused input ends nothing

    changed = admin_does(
        here, "wang", "role", {"role": "manager", "institution": "jsqi"}
    )
    assert changed.status_code == 200 and changed.json()["role"] == "manager"
    assert_ended(me(there, token))
    assert me(there, token_of(there, "wang")).json()["role"] == "manager"


def test_a_new_password_ends_every_session_and_the_old_password(gateways):
    here, there = gateways
    token, other_device = token_of(here, "liqiang"), token_of(there, "liqiang")
    short = admin_does(there, "liqiang", "password", {"password": "short"})
    assert short.status_code == 400 and me(here, token).status_code == 200
    reset = admin_does(there, "liqiang", "password", {"password": "brand-new-pass-1"})
    assert reset.status_code == 200, reset.text
    assert_ended(me(here, token))
    assert_ended(me(here, other_device))
    assert login(here, "liqiang").status_code == 401
    assert me(here, token_of(here, "liqiang", "brand-new-pass-1")).status_code == 200


def test_logging_out_through_the_api_ends_the_account_s_tokens(gateways):
    here, there = gateways
    token = token_of(here, "wang")
    out = requests.post(f"{there}/api/v1/auth/logout", json={}, headers=bearer(token))
    assert out.status_code == 200 and out.json()["logged_out"] is True
    assert_ended(me(here, token))
    again = requests.post(f"{here}/api/v1/auth/logout", json={}, headers=bearer(token))
    assert_ended(again)  # nothing left to end
    nobody = requests.post(f"{here}/api/v1/auth/logout", json={}, timeout=10)
    assert nobody.status_code == 401
    assert me(there, token_of(here, "wang")).status_code == 200


def test_the_console_s_logout_ends_the_session_not_only_the_cookie(gateways):
    here, there = gateways
    browser = requests.Session()
    browser.get(f"{here}/console/login", timeout=10)
    csrf = browser.cookies["qi_csrf"]
    signed_in = browser.post(
        f"{here}/console/login",
        data={"username": "wang", "password": PASSWORD, "csrf": csrf},
        allow_redirects=False,
        timeout=10,
    )
    assert signed_in.status_code in (302, 303), signed_in.text
    cookie = browser.cookies["qi_console"]
    assert me(there, cookie).json()["username"] == "wang"  # the cookie's token

    out = browser.post(
        f"{here}/console/logout", data={"csrf": csrf}, allow_redirects=False
    )
    assert out.status_code in (302, 303)
    # the cookie kept by someone (a copy, another tab, a stolen one) is refused
    replayed = requests.get(
        f"{here}/console/",
        cookies={"qi_console": cookie},
        allow_redirects=False,
        timeout=10,
    )
    assert replayed.status_code in (302, 303)
    assert "/console/login" in replayed.headers["Location"]
    assert_ended(me(there, cookie))  # the same token, through the API


def test_a_stranger_guessing_a_name_locks_it_out_only_at_his_own_address(gateways):
    here, there = gateways
    stranger, office = "198.51.100.66", "203.0.113.10"
    guesses = [
        login(here, "admin", "guess-1234", stranger).status_code for _ in range(6)
    ]
    assert guesses == [401] * 5 + [429]
    refused = login(there, "admin", PASSWORD, stranger)  # the other instance too
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # the admin, at the office, is not locked out by the stranger
    assert login(there, "admin", PASSWORD, office).status_code == 200
    # the stranger's address may try other names, up to the address's own limit
    others = [
        login(here, "liqiang", "guess-1234", stranger).status_code for _ in range(4)
    ]
    assert others == [401, 401, 401, 429]  # 8 failures from this address in all
    assert login(here, "wang", PASSWORD, stranger).status_code == 429
    assert login(here, "wang", PASSWORD, office).status_code == 200
