"""Test fixtures on the real RabbitMQ and PostgreSQL of this machine.

eventlet is monkey-patched before anything else is imported, as in production.
Each test session gets a RabbitMQ vhost of its own; each test gets fresh
PostgreSQL schemas or SQLite files, so tests never see each other's data.
"""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()  # noqa: E402

import os  # noqa: E402

# Many services run at once in tests, in this process and in subprocesses:
# small pools keep them under PostgreSQL's max_connections (100 here).
os.environ.setdefault("QI_POSTGRES_POOL_SIZE", "2")
os.environ.setdefault("QI_POSTGRES_MAX_OVERFLOW", "4")
# every answer of the gateway is checked against the schema its route
# declares (services/gateway/routing/checked_answers.py): a mismatch is a 500
os.environ.setdefault("QI_CHECK_ANSWERS", "1")
# `make run`'s demo province and broker users are for a person trying the
# system; a test opens exactly the institutions and accounts it names.
for _setting in ("QI_SEED_ACCOUNTS", "QI_BROKER_USERS"):
    os.environ.pop(_setting, None)

import pytest  # noqa: E402

from tests import support  # noqa: E402


@pytest.fixture(scope="session")
def amqp_uri():
    vhost = support.create_vhost()
    uri = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    previous = os.environ.get("QI_AMQP_URI")
    os.environ["QI_AMQP_URI"] = uri
    yield uri
    if previous is None:
        os.environ.pop("QI_AMQP_URI", None)
    else:
        os.environ["QI_AMQP_URI"] = previous
    support.delete_vhost(vhost)


@pytest.fixture
def clean_broker(amqp_uri):
    support.delete_topology(amqp_uri)
    yield amqp_uri
    support.delete_topology(amqp_uri)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request):
    return request.param


@pytest.fixture
def databases(backend, tmp_path, monkeypatch):
    """One database per service for this test, on the chosen backend."""
    urls, cleanup = support.database_urls(backend, tmp_path)
    for service, url in urls.items():
        monkeypatch.setenv(f"QI_{service.upper()}_DATABASE_URL", url)
    monkeypatch.setenv("QI_VAR_DIR", str(tmp_path))
    yield urls
    cleanup()


@pytest.fixture
def runner_factory(clean_broker, monkeypatch):
    """Start services in this process with nameko's ServiceRunner."""
    runners = []
    monkeypatch.setenv("QI_RELAY_STANDBY_SECONDS", "0.2")

    def start(*service_classes, http_port=None):
        runner = support.start_runner(service_classes, clean_broker, http_port)
        runners.append(runner)
        return runner

    yield start
    for runner in runners:
        runner.kill()
