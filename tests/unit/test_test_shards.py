"""scripts/test-shards: the shares come from measured seconds, a file not
measured yet is guessed in the same unit, and --record writes each file's
seconds from the sessions' JUnit reports."""

import importlib.util
import json
from importlib.machinery import SourceFileLoader
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_loader = SourceFileLoader("test_shards", str(ROOT / "scripts" / "test-shards"))
_spec = importlib.util.spec_from_loader("test_shards", _loader)
shards = importlib.util.module_from_spec(_spec)
_loader.exec_module(shards)


def test_a_file_not_measured_is_guessed_in_the_measured_files_seconds(tmp_path):
    a, b, c = (tmp_path / "integration" / f"test_{n}.py" for n in "abc")
    a.parent.mkdir()
    a.write_text("def test_1(): ...\ndef test_2(): ...\n")  # weight 2
    b.write_text("def test_1(): ...\n")  # weight 1
    c.write_text("def test_1(): ...\ndef test_2(): ...\ndef test_3(): ...\n")
    cost = shards.costs([a, b, c], {a.as_posix(): 40.0, b.as_posix(): 20.0})
    assert cost[a] == 40.0 and cost[b] == 20.0
    assert cost[c] == 60.0  # 3 tests at the measured 20 s a test


def test_shares_balance_the_seconds_not_the_count(tmp_path, monkeypatch):
    folder = tmp_path / "integration"
    folder.mkdir()
    names = ["slow", "a", "b", "c", "d"]
    for name in names:
        (folder / f"test_{name}.py").write_text("def test_1(): ...\n")
    seconds = {(folder / f"test_{n}.py").as_posix(): 10.0 for n in names}
    seconds[(folder / "test_slow.py").as_posix()] = 40.0
    monkeypatch.setattr(shards, "measured", lambda: seconds)
    one, two = shards.shares([str(folder)], 2)
    totals = sorted(sum(seconds[f] for f in share) for share in (one, two))
    assert totals == [40.0, 40.0]


def test_record_sums_each_files_tests_from_the_junit_reports(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    report = tmp_path / "shard-1.xml"
    report.write_text(
        "<testsuites><testsuite>"
        '<testcase classname="tests.unit.test_test_shards" name="x" time="1.25"/>'
        '<testcase classname="tests.unit.test_test_shards" name="y" time="0.5"/>'
        '<testcase classname="tests.e2e.test_console_pages" name="z" time="90"/>'
        '<testcase classname="no.such.module" name="w" time="3"/>'
        "</testsuite></testsuites>"
    )
    into = tmp_path / "durations.json"
    shards.record([report], into)
    assert json.loads(into.read_text()) == {
        "tests/e2e/test_console_pages.py": 90.0,
        "tests/unit/test_test_shards.py": 1.8,
    }
