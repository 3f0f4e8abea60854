"""Signed integration events: a consumer applies only what its source signed.

Why: the broker's credentials are enough to publish anything to any exchange,
and a consumer used to apply whatever came (issue 18: a ``ReferralFeedback``
published by a plain AMQP client was recorded on a real demand). So every
publishing service signs the envelopes its outbox relay publishes, and every
consumer checks, before anything is applied (``shared/entrypoints.py``), that
the envelope is signed, by the key of the service it claims as its source, and
that this source is the one whose exchange it came through.

Ed25519, an asymmetric signature: a consumer holds only public keys, so a
service that can verify another's events still cannot forge them; only the
holder of a service's private key can speak for it.

The signature covers the envelope's canonical bytes: every field (source,
type, schema version, id, position, audit fields and data) as compact JSON
with sorted keys, after one JSON round trip, exactly as a consumer parses the
message; it travels in the envelope's ``signature`` field as
``ed25519:<service>:<base64url>``, so a parked message keeps it and its replay
is verified like the first delivery.

Keys come from configuration:

- ``QI_<SERVICE>_SIGNING_KEY``: the service's private key (``python -m
  shared.signing new-keys`` makes a set).
- ``QI_SIGNING_PUBLIC_KEYS``: ``service:key,…``, every publisher's public key
  (several for one service while a key is rotated).

With ``QI_SIGNING_PUBLIC_KEYS`` empty (one installation, ``make run``) each
service's private key is kept in ``QI_VAR_DIR/signing-<service>.key`` (mode
600, made on first use) unless its variable gives one, and the public keys
are derived from those: the services, the tools and the tests of one
installation see the same keys. With it set (a deployment), a publisher's
private key must come from its variable and match its listed public key, and
nothing is kept or made.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from dataclasses import replace

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PrivateFormat,
    PublicFormat,
)
from cryptography.hazmat.primitives.serialization import (
    NoEncryption as _NoEncryption,
)

from shared import config
from shared.envelope import Envelope

ALGORITHM = "ed25519"
# a signature made for an envelope is never valid for anything else we sign
DOMAIN = b"qi-onestop integration event v1\n"
PUBLIC_KEYS = "QI_SIGNING_PUBLIC_KEYS"

# why a message was refused (the ``reason`` label of
# qi_<service>_messages_rejected_total: a fixed, small set)
UNSIGNED = "unsigned"
BAD_SIGNATURE = "bad_signature"
WRONG_SOURCE = "wrong_source"
WRONG_TYPE = "wrong_type"
REASONS = (UNSIGNED, BAD_SIGNATURE, WRONG_SOURCE, WRONG_TYPE)


class Rejected(Exception):
    """An envelope a consumer must not apply, and why (one of ``REASONS``)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class SigningKeyProblem(Exception):
    """The keys are not configured so that events can be signed or checked."""


# -- keys as text ------------------------------------------------------------


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    text = text.strip()
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded, altchars=b"-_", validate=True)


def new_private_key() -> str:
    """A new private key as text (base64url of the 32-byte Ed25519 seed)."""
    raw = Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, _NoEncryption()
    )
    return _b64encode(raw)


def private_key(text: str, where: str) -> Ed25519PrivateKey:
    try:
        raw = _b64decode(text.replace("+", "-").replace("/", "_"))
        if len(raw) != 32:
            raise ValueError(f"{len(raw)} bytes, not 32")
        return Ed25519PrivateKey.from_private_bytes(raw)
    except ValueError as exc:
        raise SigningKeyProblem(
            f"{where} is not an Ed25519 private key ({exc}); make one with "
            "`python -m shared.signing new-keys`"
        ) from None


def public_key(text: str, where: str) -> Ed25519PublicKey:
    try:
        raw = _b64decode(text.replace("+", "-").replace("/", "_"))
        if len(raw) != 32:
            raise ValueError(f"{len(raw)} bytes, not 32")
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise SigningKeyProblem(
            f"{where} is not an Ed25519 public key ({exc})"
        ) from None


def public_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return _b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


# -- configuration -------------------------------------------------------------


def key_variable(service: str) -> str:
    return f"QI_{service.upper()}_SIGNING_KEY"


def kept_key_file(service: str) -> str:
    return f"signing-{service}.key"


def listed_public_keys() -> dict[str, list[Ed25519PublicKey]]:
    """QI_SIGNING_PUBLIC_KEYS read: service -> its public keys ({} if empty)."""
    text = config.get(PUBLIC_KEYS).strip()
    keys: dict[str, list[Ed25519PublicKey]] = {}
    for entry in filter(None, (e.strip() for e in text.split(","))):
        service, sep, key = entry.partition(":")
        if not sep or not service.strip() or not key.strip():
            raise SigningKeyProblem(
                f"{PUBLIC_KEYS} entry {entry[:20]!r}… is not service:key"
            )
        where = f"{PUBLIC_KEYS}'s key of {service.strip()}"
        keys.setdefault(service.strip(), []).append(public_key(key, where))
    return keys


def _read_kept(service: str) -> str:
    """The installation's kept key of ``service``, made on first use.

    Another process may have just created the file and not yet written it:
    an empty read is tried again for a moment rather than taken as a key.
    """
    for _ in range(100):
        text = config.kept_secret(kept_key_file(service), new_private_key)
        if text:
            return text
        time.sleep(0.02)
    raise SigningKeyProblem(
        f"{config.var_dir() / kept_key_file(service)} is empty: delete it to "
        "make a new key"
    )


def own_private_key(service: str) -> Ed25519PrivateKey:
    """The key ``service`` signs with (see the module's docstring)."""
    variable = key_variable(service)
    given = os.environ.get(variable, "").strip()
    listed = listed_public_keys()
    if listed:
        if not given:
            raise SigningKeyProblem(
                f"{service} publishes events but {variable} is not set "
                f"({PUBLIC_KEYS} is, so no key is made for it)"
            )
        key = private_key(given, variable)
        mine = public_text(key)
        if mine not in {public_text(k) for k in listed.get(service, [])}:
            raise SigningKeyProblem(
                f"{variable} is not the key {PUBLIC_KEYS} lists for {service}: "
                "its events would be refused"
            )
        return key
    if given:
        return private_key(given, variable)
    where = str(config.var_dir() / kept_key_file(service))
    return private_key(_read_kept(service), where)


def public_keys_of(service: str) -> list[Ed25519PublicKey]:
    """The keys an event from ``service`` may be signed with."""
    listed = listed_public_keys()
    if listed:
        return listed.get(service, [])
    return [own_private_key(service).public_key()]


def installation_keys(services) -> None:
    """Make the kept keys of ``services`` now, before processes start that
    would otherwise each make the same one at the same moment (make run);
    nothing when keys are configured for a deployment."""
    if listed_public_keys():
        return
    for service in services:
        if not os.environ.get(key_variable(service), "").strip():
            _read_kept(service)


def keys_problem(services) -> str | None:
    """One line naming what is wrong with the signing keys of the services
    about to start, or None; every service must be able to check what it
    consumes, and QI_REQUIRE_SECRETS wants the keys given, not kept."""
    try:
        listed = listed_public_keys()
        required = config.get("QI_REQUIRE_SECRETS").strip() not in ("", "0")
        if required and not listed:
            return (
                f"{PUBLIC_KEYS} is empty: consumers could check no signature "
                "(QI_REQUIRE_SECRETS is set, so no key is kept in QI_VAR_DIR); "
                "make the keys with `python -m shared.signing new-keys`"
            )
        for service in services:
            if service in listed or (
                not listed and os.environ.get(key_variable(service), "").strip()
            ):
                own_private_key(service)
    except SigningKeyProblem as exc:
        return str(exc)
    return None


# -- signing and checking ---------------------------------------------------------


def canonical_bytes(envelope: Envelope) -> bytes:
    """What a signature covers: every field but the signature itself."""
    fields = envelope.to_dict()
    fields.pop("signature", None)
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return DOMAIN + text.encode("utf-8")


def _as_received(envelope: Envelope) -> Envelope:
    """The envelope as a consumer will parse it (through JSON, as published),
    so that both sides sign and check the very same bytes."""
    body = json.loads(json.dumps(envelope.to_dict(), ensure_ascii=False))
    return Envelope.from_dict(body)


class Signer:
    """Signs the envelopes one service publishes."""

    def __init__(self, service: str, key: Ed25519PrivateKey):
        self.service = service
        self._key = key

    def sign(self, envelope: Envelope) -> Envelope:
        unsigned = _as_received(replace(envelope, signature=""))
        signature = self._key.sign(canonical_bytes(unsigned))
        return replace(
            unsigned, signature=f"{ALGORITHM}:{self.service}:{_b64encode(signature)}"
        )


def signer_for(service: str) -> Signer:
    return Signer(service, own_private_key(service))


class Verifier:
    """Checks envelopes before a consumer applies them.

    ``keys`` (service -> public keys) is read from configuration when not
    given, one source at a time as messages from it arrive.
    """

    def __init__(self, keys: dict[str, list[Ed25519PublicKey]] | None = None):
        self._keys = dict(keys) if keys is not None else {}
        self._from_config = keys is None

    def _keys_of(self, service: str) -> list[Ed25519PublicKey]:
        if service not in self._keys and self._from_config:
            self._keys[service] = public_keys_of(service)
        return self._keys.get(service, [])

    def verify(self, envelope: Envelope, source: str, event_type: str) -> None:
        """Raise ``Rejected`` unless ``envelope`` came, signed, from ``source``
        (the service whose exchange it arrived through) as ``event_type``."""
        if not envelope.signature:
            raise Rejected(UNSIGNED, f"no signature on a message on {source}.events")
        if envelope.source != source:
            raise Rejected(
                WRONG_SOURCE,
                f"a message on {source}.events claims source {envelope.source!r}",
            )
        algorithm, _, rest = envelope.signature.partition(":")
        signer, _, encoded = rest.partition(":")
        if algorithm != ALGORITHM or not signer or not encoded:
            raise Rejected(BAD_SIGNATURE, "the signature is not ed25519:<service>:…")
        if signer != source:
            raise Rejected(
                WRONG_SOURCE,
                f"signed as {signer!r}, but it claims source {source!r}",
            )
        try:
            signature = _b64decode(encoded)
        except ValueError:
            raise Rejected(BAD_SIGNATURE, "the signature is not base64") from None
        keys = self._keys_of(source)
        if not keys:
            raise Rejected(BAD_SIGNATURE, f"no public key of {source} is known")
        message = canonical_bytes(envelope)
        for key in keys:
            try:
                key.verify(signature, message)
                break
            except InvalidSignature:
                continue
        else:
            raise Rejected(
                BAD_SIGNATURE, f"the signature is not {source}'s (forged or altered)"
            )
        if envelope.type != event_type:
            raise Rejected(
                WRONG_TYPE,
                f"a {envelope.type} came as {event_type} (routing key and type differ)",
            )


# -- python -m shared.signing new-keys -------------------------------------------


def new_keys_text(services) -> str:
    """Environment lines: a new private key per service and the public list."""
    keys = {service: new_private_key() for service in services}
    lines = [f"{key_variable(s)}={k}" for s, k in keys.items()]
    listed = ",".join(f"{s}:{public_text(private_key(k, s))}" for s, k in keys.items())
    lines.append(f"{PUBLIC_KEYS}={listed}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "new-keys":
        print(
            "usage: python -m shared.signing new-keys [SERVICE ...]\n"
            "  prints QI_<SERVICE>_SIGNING_KEY=… for each service (default: "
            "every service) and QI_SIGNING_PUBLIC_KEYS=… for all of them",
            file=sys.stderr,
        )
        return 2
    services = argv[1:] or [s for s in config.SERVICES if s != "gateway"]
    print(new_keys_text(services))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
