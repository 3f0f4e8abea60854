"""Configuration from environment variables, each with a default.

Every setting the platform reads is declared once in ``SETTINGS`` so the README
table and the code cannot drift apart (``python -m shared.config`` prints it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shared import system

REPO_ROOT = Path(__file__).resolve().parent.parent

# every service, one database each (the system's wiring: services/__init__.py)
SERVICES = system.SERVICES


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str
    # a file in QI_VAR_DIR whose content stands in for the variable when it is
    # empty: a secret `make run` keeps for its installation (see ``lookup``)
    kept_in: str = ""


SETTINGS = (
    Setting(
        "QI_AMQP_URI",
        "amqp://guest:guest@127.0.0.1:5672/",
        "RabbitMQ connection URI",
    ),
    Setting(
        "QI_<SERVICE>_AMQP_URI",
        "",
        "per-service override of QI_AMQP_URI (e.g. QI_INTAKE_AMQP_URI): the "
        "service's own RabbitMQ user, allowed its own exchange and queues only; "
        "`make run` sets them when it creates the users (QI_BROKER_USERS)",
    ),
    Setting(
        "QI_BROKER_USERS",
        "",
        "`rabbitmqctl`: `make run` creates or updates a RabbitMQ user per service "
        "in QI_AMQP_URI's vhost (passwords kept in QI_VAR_DIR/amqp-<service>"
        ".password) and runs each service as its user; needs root's rabbitmqctl, "
        "else every service uses QI_AMQP_URI and one line says how to create "
        "them; empty: off",
    ),
    Setting(
        "QI_<SERVICE>_SIGNING_KEY",
        "",
        "Ed25519 private key a service signs the events it publishes with "
        "(`python -m shared.signing new-keys` makes a set); empty: one kept in "
        "QI_VAR_DIR/signing-<service>.key, unless QI_SIGNING_PUBLIC_KEYS is set",
    ),
    Setting(
        "QI_SIGNING_PUBLIC_KEYS",
        "",
        "every publisher's public key, `service:key,…`; a consumer applies only "
        "events signed by the key of the service whose exchange they came "
        "through, and parks the rest; empty: the keys kept in QI_VAR_DIR (one "
        "installation, `make run`)",
    ),
    Setting(
        "QI_REQUIRE_SECRETS",
        "",
        "`1` (set in the deploy images): a service refuses to start unless its "
        "secrets are given (QI_CIPHER_KEY, QI_GATEWAY_SECRET, broker and database "
        "passwords, signing keys); empty: `make run` makes missing ones and "
        "keeps them in QI_VAR_DIR. A given secret or password is refused, "
        "always, when shorter than 32 characters or a placeholder",
    ),
    Setting(
        "QI_DATABASE_URL",
        "",
        "empty: one SQLite file per service under QI_VAR_DIR; "
        "postgresql://user:pass@host:port/db: one schema per service",
    ),
    Setting(
        "QI_<SERVICE>_DATABASE_URL",
        "",
        "per-service override of QI_DATABASE_URL (e.g. QI_INTAKE_DATABASE_URL); "
        "sqlite:///path or postgresql://…",
    ),
    Setting("QI_VAR_DIR", "var", "folder for SQLite files and relay locks"),
    Setting(
        "QI_POSTGRES_POOL_SIZE",
        "5",
        "PostgreSQL connections each service keeps open (mind the server's "
        "max_connections: services × instances × (pool + overflow + 2))",
    ),
    Setting(
        "QI_POSTGRES_MAX_OVERFLOW",
        "10",
        "extra PostgreSQL connections a service may open under load",
    ),
    Setting("QI_HTTP_ADDRESS", "127.0.0.1:8000", "gateway HTTP listen address"),
    Setting(
        "QI_CHECK_ANSWERS",
        "",
        "`1` (set for test runs): the gateway checks each JSON answer of a 2xx "
        "against its route's answer schema (the one /openapi.json publishes), "
        "logs the route and JSON path of a mismatch and answers 500; empty: off",
    ),
    Setting(
        "QI_METRICS_PORT",
        "9102",
        "port of the process's Prometheus /metrics endpoint (0 = off)",
    ),
    Setting(
        "QI_METRICS_ADDRESS",
        "127.0.0.1",
        "address the /metrics endpoint listens on (0.0.0.0 in a container)",
    ),
    Setting(
        "QI_METRICS_REFRESH_SECONDS",
        "15",
        "how often parked messages, relay lag and queue depths are re-read for "
        "/metrics (0 = never)",
    ),
    Setting("QI_LOG_LEVEL", "INFO", "log level"),
    Setting(
        "QI_SERVICES",
        ",".join(SERVICES),
        "services `make run` starts",
    ),
    Setting(
        "QI_PROCESSES",
        "one",
        "`one`: all services in one process; `per-service`: a process each "
        "(uses every core)",
    ),
    Setting("QI_MAX_WORKERS", "10", "concurrent workers per service container"),
    Setting(
        "QI_RELAY_BATCH_SIZE", "500", "notifications the outbox relay reads per batch"
    ),
    Setting(
        "QI_RELAY_IDLE_SECONDS",
        "0.1",
        "how often an idle outbox relay looks for events another process "
        "stored (its own process's saves wake it at once)",
    ),
    Setting(
        "QI_RELAY_SAVE_SECONDS",
        "0.5",
        "how often a busy outbox relay records how far it published (and "
        "once idle for QI_RELAY_IDLE_SECONDS); a crash publishes at most that "
        "much again, which consumers ignore",
    ),
    Setting(
        "QI_RELAY_STANDBY_SECONDS",
        "1.0",
        "how often a standby relay retries to become the active one",
    ),
    Setting(
        "QI_CALENDAR_OVERRIDES",
        "",
        "JSON file of date: holiday or workday that wins over chinese-calendar and "
        "the fallback rule (empty: none); needed past chinese-calendar's last year "
        "(see shared/calendar_overrides.example.json)",
    ),
    Setting(
        "QI_SLA_SWEEP_SECONDS",
        "60",
        "how often deadline reminders and escalations are swept",
    ),
    Setting(
        "QI_REFERRAL_UNSENT_WORKING_HOURS",
        "8",
        "a referral still waiting for a partner (requested) or to be sent "
        "(matched) this many office hours after it was opened is escalated to "
        "the manager and shown on the board (8.3.4); default one working day",
    ),
    Setting(
        "QI_CJK_FONT",
        "",
        "Chinese TrueType font file for evaluation's PDF summaries (empty: the "
        "Debian fonts-wqy-zenhei or fonts-noto-cjk file, if installed)",
    ),
    Setting(
        "QI_RPC_TIMEOUT_SECONDS", "10", "gateway's timeout for a call to a service"
    ),
    Setting(
        "QI_FRONT_DOOR_INSTITUTION",
        "jsqi",
        "institution that receives demands filed online by customers",
    ),
    Setting(
        "QI_GATEWAY_SECRET",
        "",
        "key that signs login tokens; empty: a random key kept in "
        "QI_VAR_DIR/gateway.secret",
        kept_in="gateway.secret",
    ),
    Setting("QI_TOKEN_TTL_SECONDS", "28800", "how long a login token is valid"),
    Setting(
        "QI_GATEWAY_ACCEPTED_SECRETS",
        "",
        "other keys whose login tokens are still accepted, comma-separated, "
        "never used to sign: for rotating QI_GATEWAY_SECRET without logging "
        "everyone out (README, Security); empty: none",
    ),
    Setting(
        "QI_LOGIN_ATTEMPTS",
        "5",
        "failed logins allowed per user name from one client address in 5 "
        "minutes; then that name is refused from that address only (429)",
    ),
    Setting(
        "QI_LOGIN_ADDRESS_ATTEMPTS",
        "20",
        "failed logins allowed per client address, whatever the names, in 5 "
        "minutes; then the address is refused (429)",
    ),
    Setting(
        "QI_TRUSTED_PROXIES",
        "",
        "addresses or networks (comma-separated, e.g. 10.0.0.5,10.1.0.0/16) of "
        "the reverse proxies in front of the gateway: a request from one of "
        "them is counted against the client its X-Forwarded-For names (the "
        "nearest address that is not a trusted proxy); empty: the connection's "
        "address, X-Forwarded-For ignored",
    ),
    Setting(
        "QI_PROGRESS_QUERIES_PER_MINUTE",
        "30",
        "progress-code queries allowed per client address per minute",
    ),
    Setting(
        "QI_ANONYMOUS_WRITES_PER_HOUR",
        "120",
        "writes without a login (demand registration, complaint filing, "
        "rating, on the API and the public pages) allowed per client address "
        "per hour; then 429 with Retry-After. Staff at a window log in and are "
        "not counted",
    ),
    Setting(
        "QI_IDEMPOTENCY_RETENTION_HOURS",
        "24",
        "how long an answer kept under an Idempotency-Key is replayed; then it "
        "is deleted (the body is kept encrypted with QI_CIPHER_KEY meanwhile)",
    ),
    Setting(
        "QI_CIPHER_KEY",
        "",
        "AES key encrypting every stored event (personal data at rest); empty: "
        "`make run` keeps one in QI_VAR_DIR/cipher.key for new SQLite stores, "
        "otherwise not encrypted. Make one with "
        "`python -m shared.persistence new-key`",
        kept_in="cipher.key",
    ),
    Setting(
        "QI_SEED_ACCOUNTS",
        "",
        "JSON file of accounts to open at gateway start if missing, and of "
        "institutions with qualifications the catalog registers if missing "
        "(`make run` uses services/gateway/demo_accounts.json, the demo province)",
    ),
    # -- notify: the platform's messages to the people outside it ------------
    Setting(
        "QI_PUBLIC_BASE_URL",
        "http://127.0.0.1:8000",
        "address the public pages are reached at, for the links in messages "
        "(progress page, rating page by code, console)",
    ),
    Setting(
        "QI_SMTP_URL",
        "",
        "e-mail server notify sends through: smtp://[user:password@]host[:port] "
        "(`?starttls=1` to upgrade) or smtps://…; empty: no e-mail, messages "
        "land in the console's inbox and the customer's progress page only",
    ),
    Setting(
        "QI_MAIL_FROM",
        "notice@qi-onestop.example.cn",
        "sender address of notify's e-mail (its domain ends each Message-ID)",
    ),
    Setting(
        "QI_SMS_PROVIDER",
        "",
        "SMS provider adapter: `aliyun` (Alibaba Cloud SMS, signed requests); "
        "empty: no SMS",
    ),
    Setting(
        "QI_SMS_URL",
        "https://dysmsapi.aliyuncs.com/",
        "the SMS provider's endpoint, with the AccessKey id and secret as user "
        "and password: https://ID:SECRET@dysmsapi.aliyuncs.com/",
    ),
    Setting(
        "QI_SMS_SIGN_NAME", "", "the SMS signature (签名) approved by the provider"
    ),
    Setting(
        "QI_SMS_TEMPLATE",
        "",
        "code of the approved SMS template, with the variables ${subject} and ${link}",
    ),
    Setting(
        "QI_NOTIFY_ADDRESSES",
        "",
        "JSON file of institutions' notification addresses (accounts carry no "
        'e-mail): {"<institution id or code>": {"<staff, manager or partner>": '
        '"<e-mail>" or {"email": …, "phone": …}}}; empty: staff and managers are '
        "told in the console's inbox only",
    ),
    Setting(
        "QI_NOTIFY_POLL_SECONDS",
        "1.0",
        "how often notify's sender looks for messages due to be sent",
    ),
    Setting(
        "QI_NOTIFY_RETRY_SECONDS",
        "30",
        "pause before a failed delivery is tried again, doubled after each "
        "failure (at most an hour)",
    ),
    Setting(
        "QI_NOTIFY_ATTEMPTS",
        "8",
        "attempts of a delivery before it is parked (qi_notify_parked_deliveries, "
        "alert QiNotifyUndelivered)",
    ),
    Setting(
        "QI_BLOB_DIR",
        "",
        "folder of uploaded files (e-reports, customers' materials), each named "
        "by its SHA-256, mode 0600; empty: QI_VAR_DIR/blobs (shared/blobs.py)",
    ),
    Setting(
        "QI_UPLOAD_MAX_BYTES",
        "10485760",
        "largest file accepted: an e-report (PDF) or a customer's material "
        "(PDF, JPEG, PNG)",
    ),
)

_DEFAULTS = {s.name: s.default for s in SETTINGS}
_KEPT_IN = {s.name: s.kept_in for s in SETTINGS if s.kept_in}


def lookup(name: str) -> tuple[str, str]:
    """The effective value of a declared setting and where it came from
    ("environment", the kept file's path, or "default").

    The one place every entrypoint reads its configuration and keys: the
    services, ``shared.run``, ``shared.verify``, ``shared.parked`` and the CSV
    import. A secret ``make run`` keeps in QI_VAR_DIR (the cipher key in
    cipher.key) is the value whenever the variable is empty, so a tool run
    against a ``make run`` installation sees the key its services use; one
    that read the environment alone would take the encrypted events for
    tampered ones, or store plaintext among them. Making a new kept secret is
    not done here: a lookup never changes the installation.
    """
    if name not in _DEFAULTS:
        raise KeyError(f"undeclared setting {name}")
    value = os.environ.get(name)
    if value:
        return value, "environment"
    if name in _KEPT_IN:
        kept = var_dir() / _KEPT_IN[name]
        if kept.exists():
            return kept.read_text(encoding="ascii").strip(), str(kept)
    if value is not None:
        return value, "environment"  # set empty on purpose, e.g. QI_SEED_ACCOUNTS=
    return _DEFAULTS[name], "default"


def get(name: str) -> str:
    """The effective value of a declared setting (see ``lookup``)."""
    return lookup(name)[0]


def get_int(name: str) -> int:
    return int(get(name))


def get_float(name: str) -> float:
    return float(get(name))


def var_dir() -> Path:
    path = Path(get("QI_VAR_DIR"))
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


def private_dir(path: Path) -> Path:
    """A folder of data files (QI_VAR_DIR, a SQLite file's): made 0700 if
    missing; QI_VAR_DIR itself is narrowed to 0700 when it is ours."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path == var_dir():
        try:
            path.chmod(0o700)
        except PermissionError:  # a folder someone else owns: left as it is
            pass
    return path


def kept_secret(filename: str, make: Callable[[], str]) -> str:
    """A secret kept in QI_VAR_DIR/``filename`` (mode 600), made by ``make`` the
    first time: every process of one installation reads the same one."""
    path = var_dir() / filename
    private_dir(path.parent)
    try:
        # created 0600, never readable by others even for a moment
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(descriptor, "w", encoding="ascii") as fresh:
            fresh.write(make())
    except FileExistsError:
        pass  # made before, or by another process starting at the same moment
    return path.read_text(encoding="ascii").strip()


def write_private(path: Path, text: str) -> None:
    """``text`` as the whole of the file at ``path``, readable by its owner
    only from the moment it exists (written to a 0600 file beside it, then
    moved into place): a secret is never in a file others may read."""
    private_dir(path.parent)
    fresh = path.with_name(f".{path.name}.{os.getpid()}.new")
    descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(fresh, path)


def database_url(service: str) -> str:
    """The database of one service; SQLite under ``var/`` unless told otherwise."""
    own = os.environ.get(f"QI_{service.upper()}_DATABASE_URL", "")
    shared = get("QI_DATABASE_URL")
    url = own or shared
    if not url:
        return f"sqlite:///{var_dir() / f'{service}.sqlite'}"
    return url


def amqp_uri(service: str | None = None) -> str:
    """The broker URI ``service`` connects with: its own user's
    (QI_<SERVICE>_AMQP_URI) when given, else QI_AMQP_URI."""
    own = os.environ.get(f"QI_{service.upper()}_AMQP_URI", "") if service else ""
    return own or get("QI_AMQP_URI")


def nameko_config(service: str | None = None) -> dict:
    """The nameko container config, built from the same variables; with a
    ``service``, the broker URI is that service's own (``amqp_uri``)."""
    return {
        "AMQP_URI": amqp_uri(service),
        "WEB_SERVER_ADDRESS": get("QI_HTTP_ADDRESS"),
        "max_workers": get_int("QI_MAX_WORKERS"),
        "parent_calls_tracked": 10,
        "serializer": "json",
        # exchanges must outlive their queues' consumers: the outbox relay
        # publishes to them while a consumer may be down
        "AUTO_DELETE_EVENT_EXCHANGES": False,
        "DECLARE_EVENT_EXCHANGES": True,
        "RPC_TIMEOUT": get_float("QI_RPC_TIMEOUT_SECONDS"),
    }


# a secret shorter than this is refused: 32 characters of base64url or hex
# carry 128 bits or more; every key this platform makes is longer
MIN_SECRET_LENGTH = 32
# values that are documentation, not secrets (lower case, matched anywhere)
PLACEHOLDERS = (
    "change-me",
    "changeme",
    "change_me",
    "replace-me",
    "replaceme",
    "placeholder",
    "dev-only",
    "example",
    "your-",
    "todo",
    "xxxxxxxx",
)
_LOOPBACK = {"localhost", "127.0.0.1", "::1", ""}


def secret_problem(name: str, value: str) -> str | None:
    """Why ``value`` will not do as the secret ``name``, or None: a known
    placeholder or fewer than MIN_SECRET_LENGTH characters. A placeholder
    left in a manifest is public: anyone who reads it could sign tokens or
    connect with it, so it is refused as plainly as a short one."""
    lowered = value.lower()
    placeholder = next((p for p in PLACEHOLDERS if p in lowered), None)
    if placeholder is not None:
        return (
            f"{name} is a placeholder ({placeholder!r}): set it to a random "
            f"value of at least {MIN_SECRET_LENGTH} characters, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    if len(value) < MIN_SECRET_LENGTH:
        return (
            f"{name} has {len(value)} characters, fewer than {MIN_SECRET_LENGTH}: "
            "set it to a random value, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    return None


def _url_password_problem(name: str, url: str, required: bool) -> str | None:
    """The password in a broker or database URL: checked unless the URL
    reaches a server on this machine (make run's guest@127.0.0.1, trust
    auth), or always when secrets are required."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if not required and (parts.hostname or "") in _LOOPBACK:
        return None
    if parts.scheme.startswith("sqlite"):
        return None
    return secret_problem(f"the password in {name}", unquote(parts.password or ""))


def secrets_problem(services) -> str | None:
    """One line naming the first secret that will not do for ``services``
    about to start, or None (``make run``, each container; see the settings
    QI_REQUIRE_SECRETS and MIN_SECRET_LENGTH). Given secrets are always
    checked; with QI_REQUIRE_SECRETS the ones left empty are refused too,
    since in a container nothing can be kept for the next start and a random
    gateway key per replica, or events stored unencrypted, would follow."""
    required = get("QI_REQUIRE_SECRETS").strip() not in ("", "0")
    services = list(services)
    checked = ["QI_CIPHER_KEY"]
    if "gateway" in services:
        checked.append("QI_GATEWAY_SECRET")
    for name in checked:
        value = os.environ.get(name, "")
        if value or required:
            problem = secret_problem(name, value)
            if problem:
                return problem
    for service in services:
        own = f"QI_{service.upper()}_AMQP_URI"
        name = own if os.environ.get(own) else "QI_AMQP_URI"
        problem = _url_password_problem(name, amqp_uri(service), required)
        if problem:
            return problem
        own = f"QI_{service.upper()}_DATABASE_URL"
        name = own if os.environ.get(own) else "QI_DATABASE_URL"
        url = os.environ.get(own, "") or get("QI_DATABASE_URL")
        if required and not url:
            return (
                f"{name} is empty: the service would keep its events in a SQLite "
                "file inside its container (QI_REQUIRE_SECRETS is set)"
            )
        if url:
            problem = _url_password_problem(name, url, required)
            if problem:
                return problem
    return None


def markdown_table() -> str:
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for s in SETTINGS:
        default = f"`{s.default}`" if s.default else "*(empty)*"
        rows.append(f"| `{s.name}` | {default} | {s.help} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
