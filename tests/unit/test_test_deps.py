"""scripts/test-deps: the one list of system packages the tests need.

As root it installs what is missing; as anyone else it stops with one line
naming the package and the command. Shown with a copy of the script whose list
gains a package no machine has, run as an unprivileged user.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "test-deps"
MISSING = '  "cmd:qi-no-such-tool|qi-no-such-package|a tool no machine has"\n'


def as_unprivileged(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    if not shutil.which("runuser"):
        pytest.skip("runuser is needed to drop root")
    return ["runuser", "-u", "nobody", "--", *command]


def test_everything_the_tests_need_is_present():
    done = subprocess.run(
        as_unprivileged(["bash", str(SCRIPT)]), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == done.stderr == ""


def test_a_missing_package_stops_with_one_line_naming_it_and_the_command():
    text = SCRIPT.read_text(encoding="utf-8")
    script = text.replace("NEEDS=(\n", "NEEDS=(\n" + MISSING, 1)
    assert script != text

    done = subprocess.run(
        as_unprivileged(["bash", "-s"]), input=script, capture_output=True, text=True
    )

    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "qi-no-such-package" in line
    assert "apt-get install -y qi-no-such-package" in line
