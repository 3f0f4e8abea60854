"""A service refuses to start with a secret that is a placeholder or short
(config.secret_problem / secrets_problem), in one line naming the variable;
``make run``'s own defaults (guest on this machine, kept keys) still start."""

from __future__ import annotations

import pytest

from shared import config

GOOD = "Zq3v9WmX0bR7tK2pL5sN8yC1dF4gH6jA"  # 32 random characters


@pytest.fixture
def clean(monkeypatch, tmp_path):
    monkeypatch.setenv("QI_VAR_DIR", str(tmp_path))
    for name in (
        "QI_CIPHER_KEY",
        "QI_GATEWAY_SECRET",
        "QI_AMQP_URI",
        "QI_DATABASE_URL",
        "QI_REQUIRE_SECRETS",
        "QI_INTAKE_AMQP_URI",
        "QI_INTAKE_DATABASE_URL",
        "QI_GATEWAY_AMQP_URI",
        "QI_GATEWAY_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    "value, says",
    [
        ("CHANGE-ME-to-a-long-random-key", "placeholder ('change-me')"),
        ("qi-dev-only", "placeholder ('dev-only')"),
        ("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "placeholder"),
        ("s3cret-but-short", "16 characters, fewer than 32"),
        ("", "0 characters"),
    ],
)
def test_a_placeholder_or_short_secret_is_refused_in_one_line(value, says):
    problem = config.secret_problem("QI_GATEWAY_SECRET", value)
    assert problem.startswith("QI_GATEWAY_SECRET ") and says in problem
    assert "\n" not in problem and "secrets.token_urlsafe" in problem


def test_a_random_secret_of_32_characters_will_do():
    assert config.secret_problem("QI_GATEWAY_SECRET", GOOD) is None


def test_make_run_starts_with_its_defaults(clean):
    """Nothing given: kept keys and guest on this machine's broker."""
    assert config.secrets_problem(["intake", "gateway"]) is None


def test_a_given_gateway_secret_or_cipher_key_is_checked(clean):
    clean.setenv("QI_GATEWAY_SECRET", "CHANGE-ME-to-a-long-random-key")
    assert config.secrets_problem(["intake"]) is None  # not the gateway's
    assert "QI_GATEWAY_SECRET is a placeholder" in config.secrets_problem(
        ["intake", "gateway"]
    )
    clean.setenv("QI_GATEWAY_SECRET", GOOD)
    clean.setenv("QI_CIPHER_KEY", "CHANGE-ME-to-a-new-key")
    assert "QI_CIPHER_KEY is a placeholder" in config.secrets_problem(["intake"])


def test_a_broker_password_is_checked_when_the_broker_is_elsewhere(clean):
    clean.setenv("QI_AMQP_URI", "amqp://qi:qi-dev-only@rabbitmq:5672/qi")
    assert "the password in QI_AMQP_URI is a placeholder" in (
        config.secrets_problem(["intake"])
    )
    clean.setenv("QI_INTAKE_AMQP_URI", f"amqp://qi-intake:{GOOD}@rabbitmq:5672/qi")
    assert config.secrets_problem(["intake"]) is None  # its own user's
    clean.setenv("QI_DATABASE_URL", "postgresql://qi:short@db:5432/qi")
    assert "the password in QI_DATABASE_URL has 5 characters" in (
        config.secrets_problem(["intake"])
    )


def test_required_secrets_refuse_what_is_left_empty(clean):
    clean.setenv("QI_REQUIRE_SECRETS", "1")
    assert config.secrets_problem(["intake"]).startswith("QI_CIPHER_KEY has 0")
    clean.setenv("QI_CIPHER_KEY", GOOD + "=")
    assert "the password in QI_AMQP_URI" in config.secrets_problem(["intake"])
    clean.setenv("QI_AMQP_URI", f"amqp://qi-intake:{GOOD}@rabbitmq:5672/qi")
    assert "QI_DATABASE_URL is empty" in config.secrets_problem(["intake"])
    clean.setenv("QI_DATABASE_URL", f"postgresql://qi:{GOOD}@db:5432/qi")
    assert config.secrets_problem(["intake"]) is None
    assert "QI_GATEWAY_SECRET has 0" in config.secrets_problem(["gateway"])


def test_each_service_connects_with_its_own_broker_uri(clean):
    clean.setenv("QI_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
    clean.setenv("QI_INTAKE_AMQP_URI", "amqp://qi-intake:pw@127.0.0.1:5672/")
    assert config.amqp_uri("intake").startswith("amqp://qi-intake:")
    assert config.amqp_uri("referral").startswith("amqp://guest:")
    assert config.nameko_config("intake")["AMQP_URI"].startswith("amqp://qi-intake:")
    assert config.nameko_config()["AMQP_URI"].startswith("amqp://guest:")
