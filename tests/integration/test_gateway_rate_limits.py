"""Login and progress-code limits hold across gateway instances: the attempts
are counted in the gateway's database, which every instance shares."""

from services.gateway.tokens import RateLimiter
from shared.persistence import KernelStore


def test_two_gateway_instances_count_the_same_attempts(databases):
    first, second = KernelStore("gateway"), KernelStore("gateway")
    try:
        # one limiter per instance, as each gateway process builds its own
        here = RateLimiter(first, "login", limit=4, window=300)
        there = RateLimiter(second, "login", limit=4, window=300)
        for limiter in (here, there, here, there):
            limiter.record("user:wang")
        assert here.exceeded("user:wang") and there.exceeded("user:wang")
        assert 1 <= there.retry_after("user:wang") <= 301
        assert not here.exceeded("user:zhao")  # another user is not slowed
        progress = RateLimiter(second, "progress", limit=4, window=60)
        assert not progress.exceeded("user:wang")  # each limit counts its own
    finally:
        first.close()
        second.close()
