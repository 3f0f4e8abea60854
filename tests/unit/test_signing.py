"""Signed integration events: what a consumer accepts and why it refuses the
rest (shared/signing.py), and where the keys come from."""

from __future__ import annotations

import dataclasses

import pytest

from shared import signing
from shared.envelope import Envelope
from tests.unit.test_envelope import sample


@pytest.fixture
def installation(monkeypatch, tmp_path):
    """One installation's kept keys, nothing configured."""
    monkeypatch.setenv("QI_VAR_DIR", str(tmp_path))
    for name in ("QI_SIGNING_PUBLIC_KEYS", "QI_REQUIRE_SECRETS"):
        monkeypatch.delenv(name, raising=False)
    for service in ("intake", "referral", "catalog"):
        monkeypatch.delenv(signing.key_variable(service), raising=False)
    return tmp_path


def feedback(**changes) -> Envelope:
    body = sample(source="referral", type="ReferralFeedback", data={"x": "结论合格"})
    return Envelope.from_dict({**body, **changes})


def test_a_signed_envelope_is_accepted_and_survives_the_wire(installation):
    signed = signing.signer_for("referral").sign(feedback())
    assert signed.signature.startswith("ed25519:referral:")
    received = Envelope.from_dict(signed.to_dict())  # as parked, as replayed
    signing.Verifier().verify(received, "referral", "ReferralFeedback")


def test_the_keys_are_kept_in_the_var_folder_mode_600(installation):
    signing.installation_keys(["intake", "referral"])
    kept = installation / "signing-referral.key"
    assert kept.stat().st_mode & 0o777 == 0o600
    first = signing.public_text(signing.own_private_key("referral"))
    assert signing.public_text(signing.own_private_key("referral")) == first


@pytest.mark.parametrize(
    "forge, reason",
    [
        (lambda env: dataclasses.replace(env, signature=""), signing.UNSIGNED),
        # every field is covered: the data, the position, the source
        (lambda env: dataclasses.replace(env, data={"x": "不合格"}), "bad_signature"),
        (lambda env: dataclasses.replace(env, position=99), "bad_signature"),
        (lambda env: dataclasses.replace(env, schema_version=2), "bad_signature"),
        (lambda env: dataclasses.replace(env, source="intake"), "wrong_source"),
        (
            lambda env: dataclasses.replace(env, signature="ed25519:referral:AAAA"),
            "bad_signature",
        ),
        (
            lambda env: dataclasses.replace(env, signature="rsa:referral:AA"),
            "bad_signature",
        ),
    ],
)
def test_an_altered_or_unsigned_envelope_is_refused_with_its_reason(
    installation, forge, reason
):
    genuine = signing.signer_for("referral").sign(feedback())
    with pytest.raises(signing.Rejected) as refused:
        signing.Verifier().verify(forge(genuine), "referral", "ReferralFeedback")
    assert refused.value.reason == reason


def test_a_key_that_is_not_the_sources_is_a_bad_signature(installation):
    stranger = signing.Signer(
        "referral", signing.private_key(signing.new_private_key(), "x")
    )
    forged = stranger.sign(feedback())
    with pytest.raises(signing.Rejected, match="bad_signature"):
        signing.Verifier().verify(forged, "referral", "ReferralFeedback")


def test_another_services_genuine_event_is_from_the_wrong_source(installation):
    intake = signing.signer_for("intake").sign(feedback(source="intake"))
    verifier = signing.Verifier()
    # as it was: arriving through referral's exchange
    with pytest.raises(signing.Rejected, match="wrong_source"):
        verifier.verify(intake, "referral", "ReferralFeedback")
    # re-labelled as referral's, intake's signature kept
    relabelled = dataclasses.replace(intake, source="referral")
    with pytest.raises(signing.Rejected, match="wrong_source"):
        verifier.verify(relabelled, "referral", "ReferralFeedback")
    # a genuine event under another routing key is not taken for that type
    with pytest.raises(signing.Rejected, match="wrong_type"):
        verifier.verify(intake, "intake", "DemandReferred")


def test_a_consumer_that_verifies_holds_no_private_key(monkeypatch, installation):
    """Deployed: public keys listed; a consumer with them cannot sign."""
    text = signing.new_keys_text(["intake", "referral"])
    env = dict(line.split("=", 1) for line in text.splitlines())
    monkeypatch.setenv("QI_SIGNING_PUBLIC_KEYS", env["QI_SIGNING_PUBLIC_KEYS"])
    monkeypatch.setenv("QI_REFERRAL_SIGNING_KEY", env["QI_REFERRAL_SIGNING_KEY"])
    signed = signing.signer_for("referral").sign(feedback())
    signing.Verifier().verify(signed, "referral", "ReferralFeedback")
    # intake's own key is not given: nothing is made for it, it cannot sign
    with pytest.raises(signing.SigningKeyProblem, match="QI_INTAKE_SIGNING_KEY"):
        signing.signer_for("intake")
    assert not (installation / "signing-intake.key").exists()
    # a key that is not the listed one is caught before anything is sent
    monkeypatch.setenv("QI_REFERRAL_SIGNING_KEY", env["QI_INTAKE_SIGNING_KEY"])
    with pytest.raises(signing.SigningKeyProblem, match="not the key"):
        signing.signer_for("referral")
    assert "not the key" in signing.keys_problem(["referral"])


def test_required_secrets_want_the_public_keys_listed(monkeypatch, installation):
    monkeypatch.setenv("QI_REQUIRE_SECRETS", "1")
    assert "QI_SIGNING_PUBLIC_KEYS is empty" in signing.keys_problem(["intake"])
    monkeypatch.setenv("QI_SIGNING_PUBLIC_KEYS", "intake:not-a-key")
    assert "not an Ed25519 public key" in signing.keys_problem(["intake"])


def test_new_keys_prints_a_key_per_service_and_the_public_list(capsys):
    assert signing.main(["new-keys", "intake", "referral"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("=")[0] for line in lines] == [
        "QI_INTAKE_SIGNING_KEY",
        "QI_REFERRAL_SIGNING_KEY",
        "QI_SIGNING_PUBLIC_KEYS",
    ]
    listed = lines[2].split("=", 1)[1].split(",")
    assert [entry.split(":")[0] for entry in listed] == ["intake", "referral"]
    assert all(len(line.split("=", 1)[1]) >= 43 for line in lines[:2])
