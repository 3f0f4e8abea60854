"""Configuration from environment variables, each with a default.

Every setting the platform reads is declared once in ``SETTINGS`` so the README
table and the code cannot drift apart (``python -m shared.config`` prints it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

SERVICES = ("intake", "referral", "complaints", "evaluation", "catalog", "gateway")


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS = (
    Setting(
        "QI_AMQP_URI",
        "amqp://guest:guest@127.0.0.1:5672/",
        "RabbitMQ connection URI",
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
        "intake,referral,catalog,complaints,evaluation,gateway",
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
    Setting("QI_RELAY_IDLE_SECONDS", "0.02", "relay poll interval when nothing is new"),
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
    ),
    Setting("QI_TOKEN_TTL_SECONDS", "28800", "how long a login token is valid"),
    Setting(
        "QI_LOGIN_ATTEMPTS",
        "5",
        "failed logins allowed per user name and per client address in 5 minutes",
    ),
    Setting(
        "QI_PROGRESS_QUERIES_PER_MINUTE",
        "30",
        "progress-code queries allowed per client address per minute",
    ),
    Setting(
        "QI_CIPHER_KEY",
        "",
        "AES key encrypting every stored event (personal data at rest); empty: "
        "`make run` keeps one in QI_VAR_DIR/cipher.key for new SQLite stores, "
        "otherwise not encrypted. Make one with "
        "`python -m shared.persistence new-key`",
    ),
    Setting(
        "QI_SEED_ACCOUNTS",
        "",
        "JSON file of accounts to open at gateway start if missing "
        "(`make run` uses services/gateway/demo_accounts.json)",
    ),
)

_DEFAULTS = {s.name: s.default for s in SETTINGS}


def get(name: str) -> str:
    """The value of a declared setting: the environment, else its default."""
    if name not in _DEFAULTS:
        raise KeyError(f"undeclared setting {name}")
    return os.environ.get(name, _DEFAULTS[name])


def get_int(name: str) -> int:
    return int(get(name))


def get_float(name: str) -> float:
    return float(get(name))


def var_dir() -> Path:
    path = Path(get("QI_VAR_DIR"))
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


def kept_secret(filename: str, make: Callable[[], str]) -> str:
    """A secret kept in QI_VAR_DIR/``filename`` (mode 600), made by ``make`` the
    first time: every process of one installation reads the same one."""
    path = var_dir() / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="ascii") as fresh:
            fresh.write(make())
        path.chmod(0o600)
    except FileExistsError:
        pass  # made before, or by another process starting at the same moment
    return path.read_text(encoding="ascii").strip()


def database_url(service: str) -> str:
    """The database of one service; SQLite under ``var/`` unless told otherwise."""
    own = os.environ.get(f"QI_{service.upper()}_DATABASE_URL", "")
    shared = get("QI_DATABASE_URL")
    url = own or shared
    if not url:
        return f"sqlite:///{var_dir() / f'{service}.sqlite'}"
    return url


def nameko_config() -> dict:
    """The nameko container config, built from the same variables."""
    return {
        "AMQP_URI": get("QI_AMQP_URI"),
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


def markdown_table() -> str:
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for s in SETTINGS:
        default = f"`{s.default}`" if s.default else "*(empty)*"
        rows.append(f"| `{s.name}` | {default} | {s.help} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
