"""The broker boundary: a RabbitMQ user per service, and what a service
checks before it starts.

Why: with one broker user for everything, any service (or anybody holding
that user's password) could publish to any exchange and read any queue. So
each service connects as its own user, allowed (``permissions``):

- configure: the exchanges and queues it declares: ``nameko-rpc``, its own
  ``<service>.events``, the exchanges of the sources it subscribes to (nameko
  declares them), its ``rpc-<service>`` and ``rpc.reply-<service>-<uuid>``
  queues, the queues it consumes (``evt-<source>-<type>--<service>.<handler>``)
  and its subscribers' queues, which its relay declares before publishing;
- write: ``nameko-rpc`` (calls and replies) and its own ``<service>.events``
  exchange, no other exchange (not the default one either: no publishing
  straight into another's queue); on queues, write only lets it bind the
  queues above;
- read: its own queues, and the exchanges it binds them to.

Signatures (``shared/signing.py``) make a forged event harmless; these
permissions keep a service from publishing one in another's name at all.

``make run`` (``prepare``, called by ``shared.run``) creates or updates the
users when QI_BROKER_USERS is ``rabbitmqctl`` (the Makefile sets it) and it
can: as root, with rabbitmqctl, on this machine's broker. Passwords are kept
in QI_VAR_DIR/amqp-<service>.password; the user of vhost ``/`` is
``qi-<service>``, of another vhost ``qi-<service>.<vhost>`` (so installations
on one broker do not reset each other's passwords). Otherwise every service
uses QI_AMQP_URI and one line says how to create them:
``sudo rabbitmqctl import_definitions <var>/broker-users.json`` (written
each time), after which the next ``make run`` uses them. deploy/ creates the
users itself (compose: ``python -m shared.trust apply-users`` through the
management API; Kubernetes: the operator's User and Permission resources).

    python -m shared.trust permissions SERVICE   # its three regular expressions
    python -m shared.trust check-secrets NAME…   # deploy: each variable's value
    python -m shared.trust apply-users           # deploy: users via the HTTP API
    python -m shared.trust new-env               # deploy: a fresh set of secrets
    python -m shared.trust k8s-users             # deploy/k8s/broker-users.yaml
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import warnings
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from kombu import Connection

# the stack is pinned to eventlet (nameko 2.14); its deprecation notice is known
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
from nameko.containers import get_service_name  # noqa: E402
from nameko.runners import ServiceRunner as NamekoServiceRunner  # noqa: E402

from shared import config, signing, topology  # noqa: E402

log = logging.getLogger(__name__)

RPC_EXCHANGE = "nameko-rpc"
DEFINITIONS_FILE = "broker-users.json"
_NAME = r"[a-z0-9_]+"
_TYPE = r"[A-Za-z0-9]+"


# -- who may do what -----------------------------------------------------------


def _literal(name: str) -> str:
    """A name as a regular expression (RabbitMQ's are PCRE): its dots escaped."""
    return re.escape(name).replace("\\-", "-")


def _alternatives(patterns: list[str]) -> str:
    return "^(" + "|".join(dict.fromkeys(patterns)) + ")$"


def permissions(service: str) -> dict[str, str]:
    """RabbitMQ's configure, write and read regular expressions for
    ``service`` in its vhost (see the module's docstring for why each)."""
    s = _literal(service)
    sources = sorted(
        {sub.source for sub in topology.SUBSCRIPTIONS if sub.consumer == service}
        - {service}
    )
    own_exchange = rf"{s}\.events"
    source_exchanges = [rf"{_literal(source)}\.events" for source in sources]
    own_queues = [
        f"rpc-{s}",
        rf"rpc\.reply-{s}-[0-9a-f-]+",
        rf"evt-{_NAME}-{_TYPE}--{s}\.{_NAME}",  # the queues it consumes
    ]
    fed_queues = [rf"evt-{s}-{_TYPE}--{_NAME}\.{_NAME}"]  # its relay declares
    rpc = _literal(RPC_EXCHANGE)
    return {
        "configure": _alternatives(
            [rpc, own_exchange, *source_exchanges, *own_queues, *fed_queues]
        ),
        "write": _alternatives([rpc, own_exchange, *own_queues, *fed_queues]),
        "read": _alternatives([rpc, own_exchange, *source_exchanges, *own_queues]),
    }


# -- broker URIs and users -------------------------------------------------------


def vhost_of(uri: str) -> str:
    path = urlsplit(uri).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def user_name(service: str, vhost: str) -> str:
    return f"qi-{service}" if vhost in ("/", "") else f"qi-{service}.{vhost}"


def uri_for(base: str, user: str, password: str) -> str:
    """``base`` (its host, port, vhost, options) with another user."""
    parts = urlsplit(base)
    host = parts.hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def password_hash(password: str) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt +
    password)), for a definitions file that holds no password itself."""
    salt = os.urandom(4)
    digest = hashlib.sha256(salt + password.encode("utf-8")).digest()
    return base64.b64encode(salt + digest).decode("ascii")


def definitions(vhost: str, users: dict[str, tuple[str, str]]) -> dict:
    """A definitions document (``rabbitmqctl import_definitions``) with a
    user per service of ``users`` (service -> (name, password)) and its
    permissions in ``vhost``."""
    return {
        "users": [
            {
                "name": name,
                "password_hash": password_hash(password),
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": [],
            }
            for name, password in users.values()
        ],
        "permissions": [
            {"user": name, "vhost": vhost, **permissions(service)}
            for service, (name, _) in users.items()
        ],
    }


def connects(uri: str) -> bool:
    try:
        with Connection(uri, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
        return True
    except Exception:  # noqa: BLE001 - any failure: this user cannot be used
        return False


def _import_with_rabbitmqctl(document: dict) -> str | None:
    """Import ``document`` into this machine's broker; None, or why not."""
    if shutil.which("rabbitmqctl") is None:
        return "rabbitmqctl is not installed"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return "rabbitmqctl needs root"
    done = subprocess.run(
        ["rabbitmqctl", "--quiet", "import_definitions"],
        input=json.dumps(document),
        text=True,
        capture_output=True,
        timeout=60,
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["failed"]
        return f"rabbitmqctl import_definitions: {lines[-1]}"
    return None


def use_own_users(names) -> None:
    """For ``make run`` (QI_BROKER_USERS=rabbitmqctl): run each service as its
    own broker user, setting QI_<SERVICE>_AMQP_URI (inherited by the
    processes of QI_PROCESSES=per-service); a service whose variable is set
    already keeps it. Otherwise one warning line, and QI_AMQP_URI for all."""
    if config.get("QI_BROKER_USERS").strip() != "rabbitmqctl":
        return
    todo = [n for n in names if not os.environ.get(f"QI_{n.upper()}_AMQP_URI")]
    if not todo:
        return
    base = config.get("QI_AMQP_URI")
    vhost = vhost_of(base)
    users = {
        service: (
            user_name(service, vhost),
            config.kept_secret(
                f"amqp-{service}.password", lambda: secrets.token_urlsafe(32)
            ),
        )
        for service in todo
    }
    document = definitions(vhost, users)
    kept = config.var_dir() / DEFINITIONS_FILE
    # it holds every service's broker password
    config.write_private(kept, json.dumps(document, indent=1))
    uris = {s: uri_for(base, name, password) for s, (name, password) in users.items()}
    if (urlsplit(base).hostname or "") not in ("127.0.0.1", "localhost", "::1"):
        why = "its broker is not on this machine"
    else:
        why = _import_with_rabbitmqctl(document)
    if why is None:
        # the import is asynchronous: wait until every user can connect
        deadline = time.monotonic() + 20
        while not all(connects(uri) for uri in uris.values()):
            if time.monotonic() > deadline:
                why = "the users were imported but cannot connect yet"
                break
            time.sleep(0.2)
    elif all(connects(uri) for uri in uris.values()):
        why = None  # created before (by an earlier run or by hand)
    if why is not None:
        print(
            f"make run: every service uses QI_AMQP_URI's user, not one of its "
            f"own ({why}); to create them once: sudo rabbitmqctl "
            f"import_definitions {kept}",
            file=sys.stderr,
        )
        return
    for service, uri in uris.items():
        os.environ[f"QI_{service.upper()}_AMQP_URI"] = uri
    log.info("services connect as their own broker users in vhost %s", vhost)


class ServiceRunner(NamekoServiceRunner):
    """nameko's runner, each service's container with its own broker URI
    (QI_<SERVICE>_AMQP_URI) when one is set, several services in one process
    (``make run``) each as its own user."""

    def add_service(self, cls):
        name = get_service_name(cls)
        own = os.environ.get(f"QI_{name.upper()}_AMQP_URI", "")
        service_config = {**self.config, "AMQP_URI": own} if own else self.config
        self.service_map[name] = self.container_cls(cls, service_config)


def prepare(names) -> str | None:
    """What ``shared.run`` does before it starts ``names``: one line naming a
    secret or key that will not do (then it does not start), else the kept
    signing keys made and, for ``make run``, each service's broker user."""
    problem = config.secrets_problem(names) or signing.keys_problem(names)
    if problem:
        return problem
    signing.installation_keys(config.SERVICES)
    use_own_users(names)
    return None


# -- deploy: python -m shared.trust ... ------------------------------------------

K8S_NAMESPACE = "qi-onestop"
K8S_CLUSTER = "rabbitmq"  # the RabbitmqCluster of deploy/k8s/rabbitmq.yaml
DEPLOY_VHOST = "qi"


def publishers() -> list[str]:
    """The services that run an outbox relay, so sign what they publish: each
    needs a signing key in a deployment (loads the service classes)."""
    from shared import system
    from shared.providers import OutboxRelayRunner

    def relays(name: str) -> bool:
        cls = system.service_class(name)
        return any(
            isinstance(getattr(cls, attr, None), OutboxRelayRunner) for attr in dir(cls)
        )

    return [name for name in config.SERVICES if relays(name)]


def new_env() -> str:
    """A fresh set of every secret deploy/docker-compose.yml asks for, as
    lines of deploy/.env (compose reads it; keep it out of version control)."""
    from eventsourcing.cryptography import AESCipher

    def token() -> str:
        return secrets.token_urlsafe(32)

    lines = [
        f"QI_CIPHER_KEY={AESCipher.create_key(num_bytes=32)}",
        f"QI_GATEWAY_SECRET={secrets.token_urlsafe(48)}",
        f"QI_POSTGRES_PASSWORD={token()}",
        f"QI_RABBITMQ_PASSWORD={token()}",
        f"QI_GRAFANA_PASSWORD={token()}",
        *(f"QI_RABBITMQ_{s.upper()}_PASSWORD={token()}" for s in config.SERVICES),
        signing.new_keys_text(publishers()),
    ]
    return "\n".join(lines)


def k8s_users() -> str:
    """deploy/k8s/broker-users.yaml: for each service, the Messaging Topology
    Operator's User (its password generated by the operator into the Secret
    qi-<service>-user-credentials) and Permission (``permissions``)."""
    import yaml

    documents = []
    for service in config.SERVICES:
        name = f"qi-{service}"
        cluster = {"name": K8S_CLUSTER}
        documents += [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": f"{name}-username", "namespace": K8S_NAMESPACE},
                "type": "Opaque",
                "stringData": {"username": name},
            },
            {
                "apiVersion": "rabbitmq.com/v1beta1",
                "kind": "User",
                "metadata": {"name": name, "namespace": K8S_NAMESPACE},
                "spec": {
                    "rabbitmqClusterReference": cluster,
                    "importCredentialsSecret": {"name": f"{name}-username"},
                },
            },
            {
                "apiVersion": "rabbitmq.com/v1beta1",
                "kind": "Permission",
                "metadata": {"name": name, "namespace": K8S_NAMESPACE},
                "spec": {
                    "vhost": DEPLOY_VHOST,
                    "userReference": {"name": name},
                    "permissions": permissions(service),
                    "rabbitmqClusterReference": cluster,
                },
            },
        ]
    header = (
        "# A RabbitMQ user per service, allowed its own exchange and queues only\n"
        "# (shared/trust.py), made by the RabbitMQ Messaging Topology Operator,\n"
        "# which generates each password into the Secret qi-<service>-user-\n"
        "# credentials that the service's Deployment reads. Generated by\n"
        "# `python -m shared.trust k8s-users > deploy/k8s/broker-users.yaml`;\n"
        "# tests/unit/test_deploy_kubernetes.py checks it is current.\n"
    )
    return header + yaml.safe_dump_all(documents, sort_keys=False, width=1000)


def check_secrets(variables: list[str]) -> list[str]:
    """A line per variable of ``variables`` whose value will not do: a
    signing key or the public list must parse, a secret or password must be
    no placeholder and at least 32 characters."""
    problems = []
    for name in variables:
        value = os.environ.get(name, "")
        try:
            if name == signing.PUBLIC_KEYS:
                if not signing.listed_public_keys():
                    problems.append(f"{name} is empty")
                continue
            if name.endswith("_SIGNING_KEY"):
                signing.private_key(value, name)
                continue
        except signing.SigningKeyProblem as exc:
            problems.append(str(exc))
            continue
        problem = config.secret_problem(name, value)
        if problem:
            problems.append(problem)
    return problems


def apply_users(api: str, vhost: str, services, attempts: int = 60) -> None:
    """Create or update each service's user and permissions through the
    management HTTP API (compose's broker-users step): the admin's password
    in QI_RABBITMQ_PASSWORD (user QI_RABBITMQ_USER, default qi), each
    service's in QI_RABBITMQ_<SERVICE>_PASSWORD."""
    import urllib.error
    import urllib.request

    admin = os.environ.get("QI_RABBITMQ_USER", "qi")
    token = base64.b64encode(
        f"{admin}:{os.environ['QI_RABBITMQ_PASSWORD']}".encode()
    ).decode()

    def put(path: str, body: dict) -> None:
        request = urllib.request.Request(
            f"{api.rstrip('/')}/{path}",
            data=json.dumps(body).encode(),
            method="PUT",
            headers={
                "Authorization": f"Basic {token}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=10):
            pass

    for attempt in range(attempts):
        try:
            put(f"vhosts/{quote(vhost, safe='')}", {})
            break
        except (urllib.error.URLError, OSError) as exc:
            if attempt == attempts - 1:
                raise
            log.warning("management API not answering yet (%s); retrying", exc)
            time.sleep(2)
    for service in services:
        name = f"qi-{service}"
        password = os.environ[f"QI_RABBITMQ_{service.upper()}_PASSWORD"]
        put(f"users/{quote(name, safe='')}", {"password": password, "tags": ""})
        put(
            f"permissions/{quote(vhost, safe='')}/{quote(name, safe='')}",
            permissions(service),
        )
        print(f"broker user {name}: its own exchange and queues in vhost {vhost}")


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m shared.trust")
    sub = parser.add_subparsers(dest="command", required=True)
    shown = sub.add_parser("permissions", help="a service's permissions")
    shown.add_argument("service", choices=config.SERVICES)
    checked = sub.add_parser("check-secrets", help="refuse weak deploy secrets")
    checked.add_argument("variables", nargs="+")
    applied = sub.add_parser("apply-users", help="users through the HTTP API")
    applied.add_argument("--api", default="http://rabbitmq:15672/api")
    applied.add_argument("--vhost", default="qi")
    applied.add_argument("services", nargs="*")
    sub.add_parser("new-env", help="a fresh deploy/.env for compose")
    sub.add_parser("k8s-users", help="deploy/k8s/broker-users.yaml")
    args = parser.parse_args(argv)
    if args.command == "new-env":
        print(new_env())
        return 0
    if args.command == "k8s-users":
        print(k8s_users(), end="")
        return 0
    if args.command == "permissions":
        print(json.dumps(permissions(args.service), indent=1))
        return 0
    if args.command == "check-secrets":
        problems = check_secrets(args.variables)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    apply_users(args.api, args.vhost, args.services or config.SERVICES)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
