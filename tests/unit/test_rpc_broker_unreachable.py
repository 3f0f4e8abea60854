"""A call that cannot reach RabbitMQ (a restart, ECONNREFUSED) is a service
that is unavailable: DependencyUnavailable, which a consumer puts back and the
gateway answers 503, not an unknown error a consumer parks (seen in the fault
test of a RabbitMQ restart under 1,000 demands)."""

import amqp.exceptions
import kombu.exceptions
import pytest

from shared.entrypoints import TRANSIENT
from shared.errors import DependencyUnavailable
from shared.rpc import _BoundedService


class Unreachable:
    """A proxy's method as nameko's is while the broker refuses connections."""

    def __init__(self, error: Exception):
        self.error = error

    def __getattr__(self, name):
        def method(*args, **kwargs):
            raise self.error

        method.call_async = method
        return method


@pytest.mark.parametrize(
    "error",
    [
        kombu.exceptions.OperationalError("[Errno 111] ECONNREFUSED"),
        amqp.exceptions.ConnectionForced("broker shutting down"),
        ConnectionRefusedError(111, "Connection refused"),
    ],
)
def test_a_call_the_broker_refuses_is_a_dependency_unavailable(error):
    catalog = _BoundedService(Unreachable(error), "catalog")
    with pytest.raises(DependencyUnavailable, match="catalog.item: the broker"):
        catalog.item("6.2")
    assert issubclass(DependencyUnavailable, TRANSIENT)
