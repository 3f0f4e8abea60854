"""When the outbox relay counts as stuck: failing at one position for at least
STUCK_AFTER_ATTEMPTS attempts over at least STUCK_AFTER_SECONDS, so a short
outage never turns a service unhealthy and a poison notification does."""

from shared.outbox import STUCK_AFTER_ATTEMPTS, STUCK_AFTER_SECONDS, Stall


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_short_outage_is_not_stuck_however_many_attempts_failed():
    clock = Clock()
    stall = Stall(attempts=5, seconds=30, clock=clock)
    for _ in range(20):  # many quick retries within the time bound
        stall.failed(7, ConnectionError("broker down"))
        clock.now += 1
    assert stall.problem() is None
    stall.proceeded()
    clock.now += 60
    assert stall.problem() is None


def test_one_slow_failure_is_not_stuck_however_long_it_took():
    clock = Clock()
    stall = Stall(attempts=5, seconds=30, clock=clock)
    stall.failed(7, TimeoutError("publish timed out"))
    clock.now += 120
    stall.failed(7, TimeoutError("publish timed out"))
    assert stall.problem() is None


def test_failing_at_one_position_past_both_bounds_is_stuck_until_it_proceeds():
    clock = Clock()
    stall = Stall(attempts=3, seconds=10, clock=clock)
    newly = [stall.failed(41, ValueError("Invalid cipher tag")) for _ in range(2)]
    clock.now += 11
    newly.append(stall.failed(41, ValueError("Invalid cipher tag")))
    assert newly == [False, False, True]  # said once, when it became stuck
    problem = stall.problem()
    assert "past notification 41" in problem and "3 attempts" in problem
    assert "ValueError: Invalid cipher tag" in problem
    assert stall.failed(41, ValueError("Invalid cipher tag")) is False
    stall.proceeded()
    assert stall.problem() is None


def test_failing_at_a_new_position_starts_counting_again():
    clock = Clock()
    stall = Stall(attempts=2, seconds=5, clock=clock)
    stall.failed(1, OSError("x"))
    clock.now += 10
    stall.failed(2, OSError("x"))  # it moved on meanwhile
    assert stall.problem() is None
    stall.failed(None, OSError("database unreachable"))  # position unknown
    clock.now += 5
    assert "2 attempts" in stall.problem()


def test_the_documented_bounds():
    assert (STUCK_AFTER_ATTEMPTS, STUCK_AFTER_SECONDS) == (5, 30.0)
