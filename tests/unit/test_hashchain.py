"""Hash chain rules, on plain data."""

from shared.hashchain import event_hash, verify_stream

TOPIC = "services.intake.domain:Demand.Registered"


def chain(n: int) -> list[tuple[str, dict]]:
    events, previous = [], ""
    for version in range(1, n + 1):
        state = {
            "originator_id": "d1",
            "originator_version": version,
            "note": f"step {version}",
            "prev_hash": previous,
        }
        state["chain_hash"] = event_hash(TOPIC, state)
        previous = state["chain_hash"]
        events.append((TOPIC, state))
    return events


def test_an_intact_stream_verifies():
    assert verify_stream(chain(4)) is None


def test_altered_content_names_that_event():
    events = chain(4)
    events[2][1]["note"] = "changed afterwards"
    broken = verify_stream(events)
    assert (broken.version, broken.reason) == (3, "content does not match its hash")


def test_the_last_event_is_protected_too():
    events = chain(3)
    events[-1][1]["note"] = "changed"
    assert verify_stream(events).version == 3


def test_a_removed_event_breaks_the_next_link():
    events = chain(4)
    del events[1]
    broken = verify_stream(events)
    assert broken.version == 3
    assert "link" in broken.reason


def test_hash_ignores_key_order_but_not_values():
    a = {"x": 1, "y": [1, 2], "prev_hash": ""}
    b = {"y": [1, 2], "prev_hash": "", "x": 1}
    assert event_hash(TOPIC, a) == event_hash(TOPIC, b)
    assert event_hash(TOPIC, a) != event_hash(TOPIC, {**a, "x": 2})
