"""The README's examples, run as written against a fresh ``make run``.

Every indented shell block of README.md and deploy/README.md that talks to a
running system (it names ``localhost:``) is cut into commands and run in one
bash, in order, so variables set by one example (a token, a demand id) serve
the next. The only edit is the port: the test's ``make run`` listens on free
ports instead of 8000 and 9102. curl answers 4xx/5xx as a failure
(``--fail-with-body``), and an example that prints nothing or an empty list
fails too (assignments and waiting loops aside): a newcomer must see something
on a fresh install.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest
import requests

from tests import support

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = (REPO / "README.md", REPO / "deploy" / "README.md")
MARK = "@@qi-example-done"
# assignments and waiting loops print nothing by design
QUIET = re.compile(r"^(\w+=|until |while |for )")


def indented_blocks(text: str) -> list[list[str]]:
    """Markdown's indented code blocks (four spaces, after a blank line)."""
    blocks, current, previous_blank = [], [], True
    for line in text.splitlines():
        if line.startswith("    ") and (current or previous_blank):
            current.append(line[4:])
        elif current and not line.strip():
            current.append("")
        else:
            if current:
                blocks.append(current)
            current = []
        previous_blank = not line.strip()
    if current:
        blocks.append(current)
    return [[*b] for b in blocks]


def complete(text: str) -> bool:
    """Whether ``text`` is a whole shell command (no open quote, no trailing \\)."""
    if text.rstrip().endswith("\\"):
        return False
    checked = subprocess.run(["bash", "-n"], input=text, text=True, capture_output=True)
    return checked.returncode == 0


def commands(block: list[str]) -> list[str]:
    found, pending = [], ""
    for line in block:
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue  # a comment line belongs to the command after it
        pending = f"{pending}\n{line}" if pending else line
        if complete(pending):
            found.append(pending)
            pending = ""
    assert not pending, f"an example does not end: {pending}"
    return found


def examples() -> list[tuple[str, str]]:
    """(document, command) for every example that talks to a running system."""
    found = []
    for document in DOCUMENTS:
        for block in indented_blocks(document.read_text(encoding="utf-8")):
            if any("localhost:" in line for line in block):
                found += [(document.name, c) for c in commands(block)]
    return found


def shows_nothing(output: str) -> bool:
    text = output.strip()
    if text in ("", "[]", "{}", "null"):
        return True
    try:
        answer = json.loads(text)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("items") == []


def run_examples(found, http_port: int, metrics_port: int, cwd: Path):
    """Run the examples in one bash; returns [(command, status, output)]."""
    lines = [
        "set -o pipefail",
        'curl() { command curl --fail-with-body --max-time 20 "$@"; }',
    ]
    for _, command in found:
        command = command.replace("localhost:8000", f"localhost:{http_port}")
        command = command.replace("localhost:9102", f"localhost:{metrics_port}")
        lines += [command, f"printf '\\n{MARK} %d\\n' $?"]
    script = "\n".join(lines) + "\n"
    ran = subprocess.run(
        ["bash"], input=script, text=True, capture_output=True, cwd=cwd, timeout=300
    )
    parts = re.split(rf"\n{MARK} (\d+)\n", ran.stdout)
    results = []
    for index, (_, command) in enumerate(found):
        output, status = parts[2 * index], int(parts[2 * index + 1])
        results.append((command, status, output))
    return results, ran.stderr


@pytest.fixture(scope="module")
def fresh_make_run(tmp_path_factory):
    """``make run`` as a newcomer starts it: the Makefile's defaults (demo
    accounts and data), an empty var folder, a RabbitMQ vhost of its own."""
    vhost = support.create_vhost()
    var = tmp_path_factory.mktemp("var")
    http_port, metrics_port = support.free_port(), support.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QI_")}
    env.update(
        QI_AMQP_URI=f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
        QI_VAR_DIR=str(var),
        QI_HTTP_ADDRESS=f"127.0.0.1:{http_port}",
        QI_METRICS_PORT=str(metrics_port),
        QI_LOG_LEVEL="WARNING",
    )
    log = (var / "make-run.log").open("w")
    process = subprocess.Popen(
        ["make", "-s", "run"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def healthy():
        assert process.poll() is None, (var / "make-run.log").read_text()
        try:
            url = f"http://127.0.0.1:{http_port}/healthz"
            return requests.get(url, timeout=2).ok
        except requests.RequestException:
            return False

    try:
        support.wait_for(healthy, timeout=60, interval=0.2)
        yield http_port, metrics_port, var
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log.close()
        support.delete_vhost(vhost)
        support.delete_broker_users(vhost)  # QI_BROKER_USERS: make run's users


def test_the_readmes_have_examples_that_talk_to_a_running_system():
    found = examples()
    assert len(found) >= 15, found
    assert {document for document, _ in found} >= {"README.md"}


def test_every_readme_example_works_as_written_on_a_fresh_make_run(
    fresh_make_run, tmp_path
):
    http_port, metrics_port, _ = fresh_make_run
    found = examples()
    results, stderr = run_examples(found, http_port, metrics_port, tmp_path)
    failures = [
        f"exit {status}: {command}\n  -> {output.strip()[:400]}"
        for command, status, output in results
        if status != 0 or (not QUIET.match(command) and shows_nothing(output))
    ]
    assert not failures, "\n".join(failures) + f"\nstderr:\n{stderr[-2000:]}"


def test_a_form_body_on_a_json_route_answers_415_and_stores_nothing(fresh_make_run):
    http_port, _, _ = fresh_make_run
    base = f"http://127.0.0.1:{http_port}"
    form = {
        "applicant": "无锡某新材料有限公司",
        "contact_phone": "13952012345",
        "service_item_code": "6.3",
        "description": "表单方式提交",
        "channel": "website",
    }
    login = requests.post(
        f"{base}/api/v1/auth/login",
        json={"username": "wang.staff", "password": "staff-demo-2026"},
        timeout=10,
    )
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    before = requests.get(f"{base}/api/v1/demands", headers=headers, timeout=10)

    for body in (form, json.dumps(form)):  # a form, and JSON sent as a form
        refused = requests.post(f"{base}/api/v1/demands", data=body, timeout=10)
        assert refused.status_code == 415, refused.text
        assert refused.headers["Content-Type"] == "application/problem+json"
        problem = refused.json()
        assert "application/json" in problem["detail"]
        assert [e["field"] for e in problem["errors"]] == ["Content-Type"]
    text = requests.post(
        f"{base}/api/v1/auth/login",
        data='{"username":"wang.staff","password":"staff-demo-2026"}',
        headers={"Content-Type": "text/plain"},
        timeout=10,
    )
    assert text.status_code == 415, text.text

    after = requests.get(f"{base}/api/v1/demands", headers=headers, timeout=10)
    assert after.json()["total"] == before.json()["total"]
