"""argon2 runs in an OS thread of eventlet's pool, not on the event loop."""

import threading

import eventlet
import pytest

from services.gateway import accounts
from services.gateway.access import TooManyAttempts
from shared import config


def test_hashing_and_checking_run_in_another_os_thread():
    loop_thread = threading.get_native_id()
    seen = []

    def where(work):
        def recorded(*args):
            seen.append(threading.get_native_id())
            return work(*args)

        return recorded

    hasher = accounts._hasher
    hashed = accounts.off_loop(where(hasher.hash), "correct-horse-9")
    assert accounts.off_loop(where(hasher.verify), hashed, "correct-horse-9")
    assert len(seen) == 2 and loop_thread not in seen


def test_the_event_loop_keeps_running_while_a_password_is_hashed():
    """Green threads tick during the hash: the loop was not blocked by it."""
    ticks = []

    def ticker():
        for _ in range(200):
            ticks.append(1)
            eventlet.sleep(0.001)

    green = eventlet.spawn(ticker)
    eventlet.sleep(0)  # let it start
    before = len(ticks)
    hashed = accounts.hash_password("correct-horse-9")
    during = len(ticks) - before
    green.kill()
    assert accounts.password_matches(hashed, "correct-horse-9")
    assert not accounts.password_matches(hashed, "wrong-horse-9")
    assert during >= 2  # on the event loop, the hash would have allowed none


def test_past_the_logins_in_flight_a_login_is_refused_at_once_not_queued():
    """Each waiting login holds a request worker: past HASHING_IN_FLIGHT one
    is answered 429 (try again in a second), so other routes keep workers."""
    taken = accounts._in_flight[0]
    accounts._in_flight[0] = accounts.HASHING_IN_FLIGHT
    try:
        with pytest.raises(TooManyAttempts) as refused:
            accounts.hash_password("correct-horse-9")
    finally:
        accounts._in_flight[0] = taken
    assert refused.value.retry_after == 1 and "稍候" in refused.value.detail
    assert accounts.HASHING_IN_FLIGHT < config.get_int("QI_MAX_WORKERS")
    assert accounts.password_matches(accounts.hash_password("x" * 10), "x" * 10)
