"""Login tokens and the rate limits on guessing."""

import pytest

from services.gateway.tokens import RateLimiter, TokenError, Tokens
from shared.audit import Actor
from shared.persistence import KernelStore

WANG = Actor("wang", "staff", "jsqi")


def test_a_token_carries_who_the_caller_is():
    tokens = Tokens("s" * 40, ttl_seconds=60)
    assert tokens.verify(tokens.issue(WANG)) == WANG


def test_a_token_signed_with_another_key_or_altered_is_refused():
    token = Tokens("s" * 40, 60).issue(WANG)
    with pytest.raises(TokenError):
        Tokens("t" * 40, 60).verify(token)
    payload, _, signature = token.rpartition(".")
    forged = payload.replace(payload[2], "A" if payload[2] != "A" else "B") + "."
    with pytest.raises(TokenError):
        Tokens("s" * 40, 60).verify(forged + signature)


def test_an_expired_token_is_refused_with_a_message_to_log_in_again():
    tokens = Tokens("s" * 40, ttl_seconds=-1)
    with pytest.raises(TokenError) as caught:
        tokens.verify(tokens.issue(WANG))
    assert "过期" in str(caught.value)


def test_attempts_over_the_limit_wait_for_the_window_to_pass(tmp_path):
    now = [0.0]
    kernel = KernelStore("gateway", f"sqlite:///{tmp_path / 'gateway.sqlite'}")
    limiter = RateLimiter(kernel, "progress", limit=3, window=60, clock=lambda: now[0])
    assert [limiter.allow("addr:1") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("addr:2")  # another key has its own count
    assert limiter.retry_after("addr:1") == 61
    now[0] = 60.5
    assert limiter.allow("addr:1")
    kernel.close()


def test_only_recorded_failures_count(tmp_path):
    kernel = KernelStore("gateway", f"sqlite:///{tmp_path / 'gateway.sqlite'}")
    limiter = RateLimiter(kernel, "login", limit=2, window=300)
    assert not limiter.exceeded("user:wang")
    limiter.record("user:wang")
    limiter.record("user:wang")
    assert limiter.exceeded("user:wang")
    kernel.close()
