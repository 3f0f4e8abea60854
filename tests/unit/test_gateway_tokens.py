"""Login tokens and the rate limits on guessing."""

import pytest

from services.gateway.tokens import (
    RateLimiter,
    TokenError,
    Tokens,
    TokenVersions,
    accepted_secrets,
)
from shared.audit import Actor
from shared.persistence import KernelStore

WANG = Actor("wang", "staff", "jsqi")


def test_a_token_carries_who_the_caller_is():
    tokens = Tokens("s" * 40, ttl_seconds=60)
    signed = tokens.verify(tokens.issue(WANG, 3))
    assert (signed.actor, signed.version) == (WANG, 3)


def test_a_token_signed_with_another_key_or_altered_is_refused():
    token = Tokens("s" * 40, 60).issue(WANG, 0)
    with pytest.raises(TokenError):
        Tokens("t" * 40, 60).verify(token)
    payload, _, signature = token.rpartition(".")
    forged = payload.replace(payload[2], "A" if payload[2] != "A" else "B") + "."
    with pytest.raises(TokenError):
        Tokens("s" * 40, 60).verify(forged + signature)


def test_an_expired_token_is_refused_with_a_message_to_log_in_again():
    tokens = Tokens("s" * 40, ttl_seconds=-1)
    with pytest.raises(TokenError) as caught:
        tokens.verify(tokens.issue(WANG, 0))
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


def test_a_revoked_account_s_tokens_are_refused_and_a_new_one_works(tmp_path):
    kernel = KernelStore("gateway", f"sqlite:///{tmp_path / 'gateway.sqlite'}")
    tokens, versions = Tokens("s" * 40, 60), TokenVersions(kernel)
    old = tokens.issue(WANG, versions.current("wang"))
    assert versions.check(tokens.verify(old)) == WANG
    versions.revoke("wang")
    versions.revoke("wang")  # again: the version only goes up
    with pytest.raises(TokenError) as caught:
        versions.check(tokens.verify(old))
    assert "重新登录" in str(caught.value)
    fresh = tokens.issue(WANG, versions.current("wang"))
    assert versions.current("wang") == 2
    assert versions.check(tokens.verify(fresh)) == WANG
    other = Actor("li", "staff", "jsqi")  # another account is not touched
    assert versions.check(tokens.verify(tokens.issue(other, 0))) == other
    kernel.close()


def test_a_token_without_a_version_is_refused_as_revoked():
    """Tokens issued before revocation existed carry no version."""
    tokens = Tokens("s" * 40, 60)
    legacy = tokens.serializer.dumps({"sub": "wang", "role": "staff", "inst": "jsqi"})
    with pytest.raises(TokenError):
        tokens.verify(legacy)


def test_rotating_the_gateway_secret_keeps_tokens_of_an_accepted_old_key():
    old, new = "o" * 40, "n" * 40
    issued_before = Tokens(old, 60).issue(WANG, 0)
    # step 2 of the rotation: sign with the new key, still accept the old one
    rotating = Tokens(new, 60, accepted=(old,))
    assert rotating.verify(issued_before).actor == WANG
    issued_after = rotating.issue(WANG, 0)
    with pytest.raises(TokenError):
        Tokens(old, 60).verify(issued_after)  # signed with the new key only
    # step 3, once the old tokens have expired: the old key is dropped
    with pytest.raises(TokenError):
        Tokens(new, 60).verify(issued_before)


def test_an_accepted_secret_is_held_to_the_signing_key_s_rule(monkeypatch):
    monkeypatch.setenv("QI_GATEWAY_ACCEPTED_SECRETS", "o" * 40 + ", short")
    with pytest.raises(ValueError, match="QI_GATEWAY_ACCEPTED_SECRETS"):
        accepted_secrets()
    monkeypatch.setenv("QI_GATEWAY_ACCEPTED_SECRETS", "o" * 40 + ", " + "p" * 40)
    assert accepted_secrets() == ["o" * 40, "p" * 40]
