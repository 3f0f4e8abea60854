"""The harness of the page tests: a platform, one Chromium, what it saw.

The test process runs under eventlet's monkey patching (tests/conftest.py),
in which Playwright's driver does not start; so a page test module runs
itself as a script in a child process without eventlet (``browse``), which
drives one Chromium for the module through its scenarios (``run_scenarios``)
with the network to anything but 127.0.0.1 blocked, and writes what it saw
to a JSON file (``hand_over``) that the module's tests judge. Screenshots
land in tests/artifacts/console/ (gitignored).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests import support

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts" / "console"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "partner-demo-2026"
STAFF = ("wang.staff", "staff-demo-2026")
REGULATOR = ("sun.regulator", "regulator-demo-2026")
ADMIN = ("admin", "admin-demo-2026")
MANAGER = ("zhao.manager", "manager-demo-2026")
OTHER_STAFF = ("other.staff", PASSWORD)
OTHER_MANAGER = ("other.manager", PASSWORD)
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Chromium is installed by .ci/run"
)


class Api:
    """The JSON API, to set up accounts and to check that nothing was stored."""

    def __init__(self, base_url: str, who: tuple[str, str] | None = None):
        import requests

        self.base_url, self.session = base_url, requests.Session()
        if who:
            answer = self.session.post(
                f"{base_url}/api/v1/auth/login",
                json={"username": who[0], "password": who[1]},
                timeout=10,
            )
            answer.raise_for_status()
            self.session.headers["Authorization"] = f"Bearer {answer.json()['token']}"

    def get(self, path: str):
        return self.session.get(f"{self.base_url}{path}", timeout=10)

    def post(self, path: str, body: dict):
        return self.session.post(f"{self.base_url}{path}", json=body, timeout=10)


def open_accounts(base_url: str, accounts: Iterable[tuple[str, str, str]]) -> None:
    """Accounts (username, role, institution) opened by the admin, each with
    the shared test password."""
    admin = Api(base_url, ADMIN)
    for username, role, institution in accounts:
        opened = admin.post(
            "/api/v1/accounts",
            {
                "username": username,
                "display_name": f"测试{username}",
                "role": role,
                "institution": institution,
                "password": PASSWORD,
            },
        )
        assert opened.status_code == 201, opened.text


class Driver:
    """One browser; a context (own cookies) per person; every request watched."""

    def __init__(self, browser, base_url: str, outdir: Path):
        self.browser, self.base_url, self.outdir = browser, base_url, outdir
        self.elsewhere: list[str] = []
        self.shots: list[str] = []
        self.english_errors: list[str] = []
        self.too_wide: list[str] = []

    def person(self, viewport: dict):
        context = self.browser.new_context(viewport=viewport, locale="zh-CN")

        def only_here(route):
            if urlparse(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                self.elsewhere.append(route.request.url)
                route.abort()

        context.route("**/*", only_here)
        page = context.new_page()
        page.set_default_timeout(15000)
        return page

    def shot(self, page, name: str) -> None:
        """A screenshot, and whether the page fits its width (no sideways
        scrolling at 1366×768 or on a phone)."""
        path = self.outdir / f"{len(self.shots):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.shots.append(path.name)
        wider = page.evaluate(
            "document.documentElement.scrollWidth - window.innerWidth"
        )
        if wider > 0:
            self.too_wide.append(f"{name}: {wider}px")

    def go(self, page, path: str) -> int:
        return page.goto(f"{self.base_url}{path}").status

    def opened(self, page, path: str) -> dict:
        """A page opened by URL: its status and what its main part says."""
        return {"status": self.go(page, path), "text": page.inner_text("main")}

    def submit(self, page, button) -> int:
        """Press a form's button; the status of the page the browser lands on."""
        with page.expect_navigation() as landed:
            button.click()
        return landed.value.status if landed.value else 0

    def sent(self, page, button) -> dict:
        """A form sent: the status of the page it lands on and the messages
        there by field."""
        return {"status": self.submit(page, button), "errors": self.field_errors(page)}

    def field_errors(self, page) -> dict[str, str]:
        found = {}
        for element in page.locator(".field-error").all():
            key = (element.get_attribute("id") or "").removesuffix("-error")
            found[key] = element.inner_text()
        for message in found.values():
            if any("a" <= c.lower() <= "z" for c in message):
                self.english_errors.append(message)
        return found

    def login(self, page, who: tuple[str, str]) -> None:
        """From the keyboard alone: type, Tab, type, Enter."""
        self.go(page, "/console/login")
        page.focus("#username")
        page.keyboard.type(who[0])
        page.keyboard.press("Tab")
        page.keyboard.type(who[1])
        with page.expect_navigation():
            page.keyboard.press("Enter")


Scenario = Callable[[Driver, dict], None]


def run_scenarios(
    base_url: str,
    outdir: Path,
    stale: str,
    scenarios: Iterable[Scenario],
    seen: dict,
) -> dict:
    """The child's browser run: the ``stale`` screenshots of the previous run
    removed, then each scenario in one Chromium, a failing one written down
    for the test that judges it while the others go on; ``seen`` gains what
    the driver watched and the run's seconds."""
    from playwright.sync_api import sync_playwright

    outdir.mkdir(parents=True, exist_ok=True)
    for old in outdir.glob(stale):
        old.unlink()
    seen["failures"] = {}
    started = time.monotonic()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        driver = Driver(browser, base_url, outdir)
        for scenario in scenarios:
            try:
                scenario(driver, seen)
            except Exception:  # noqa: BLE001 - reported to the test that judges it
                seen["failures"][scenario.__name__] = traceback.format_exc()
        browser.close()
    seen["elsewhere"] = driver.elsewhere
    seen["screenshots"] = driver.shots
    seen["english_errors"] = driver.english_errors
    seen["too_wide"] = driver.too_wide
    seen["seconds"] = round(time.monotonic() - started, 1)
    return seen


def hand_over(drive: Callable[[str, Path], dict]) -> None:
    """The child's end (the module run as a script): ``drive`` on the
    platform and screenshot folder it was given, what it saw to the JSON
    file it was given."""
    url, out, result = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    result.write_text(json.dumps(drive(url, out), ensure_ascii=False, indent=1))


def start_platform(amqp_uri: str, var_dir: Path, **settings: str):
    """Every service in a subprocess with the demo accounts, on a broker
    topology of its own; ``settings`` are further QI_ variables."""
    support.delete_topology(amqp_uri)
    return support.ServicesProcess(
        {
            "QI_AMQP_URI": amqp_uri,
            "QI_VAR_DIR": str(var_dir),
            "QI_SEED_ACCOUNTS": str(REPO / "services/gateway/demo_accounts.json"),
            **settings,
        }
    ).start(timeout=60)


def browse(script: str, base_url: str, result: Path, timeout: float) -> dict:
    """The parent's end: ``script`` (a page test module) run as the child
    against the platform, and what it saw."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QI_")}
    run = subprocess.run(
        [sys.executable, script, base_url, str(ARTIFACTS), result],
        env={**env, "PYTHONPATH": str(REPO)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads(result.read_text(encoding="utf-8"))


def page_fixtures(name: str, seconds: float, **settings: str):
    """A page test module's two fixtures, to be assigned to its ``platform``
    and ``seen``: every service for the module (``start_platform`` with the
    ``settings``), and the module run once as the child (``browse``), given
    ``seconds`` in all."""

    @pytest.fixture(scope="module")
    def platform(amqp_uri, tmp_path_factory):
        services = start_platform(amqp_uri, tmp_path_factory.mktemp(name), **settings)
        yield services
        services.kill()

    @pytest.fixture(scope="module")
    def seen(request, platform, tmp_path_factory):
        """One browser run for the module (see the module's docstring)."""
        result = tmp_path_factory.mktemp(f"{name}-run") / "seen.json"
        script = request.module.__file__
        return browse(script, platform.base_url, result, timeout=seconds)

    return platform, seen


def scenario_ran(seen: dict, name: str) -> None:
    assert name not in seen["failures"], seen["failures"][name]
