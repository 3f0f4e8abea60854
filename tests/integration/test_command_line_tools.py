"""Every command reads configuration and keys as the services do (issue 16).

A ``make run`` installation keeps its cipher key in QI_VAR_DIR/cipher.key,
not in the environment. ``python -m shared.verify``, ``python -m shared.parked
list`` and ``python -m services.catalog.csv_import`` run against it as
subprocesses, as an operator runs them, and must see that key: verify finds
nothing broken, and what the import stores the catalog service reads. A wrong
or missing key is reported as unreadable events, never as tampering.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from eventsourcing.cryptography import AESCipher
from sqlalchemy import select

from shared import config
from shared.parking import ParkingLot
from shared.persistence import KernelStore
from shared.tables import relay_position
from shared.verify import APPLICATIONS, CANNOT_BE_READ
from tests import support

REPO = Path(__file__).resolve().parents[2]
DEMO_ACCOUNTS = REPO / "services" / "gateway" / "demo_accounts.json"
FORM = {
    "applicant": "常州某电缆有限公司",
    "contact_phone": "13961234567",
    "service_item_code": "6.3",
    "description": "电线电缆阻燃性能检测",
    "channel": "website",
}
INSTITUTION = {
    "机构代码": "91320400MA1XQ0001",
    "机构名称": "常州市某某电缆检测研究院",
    "机构类别": "检验检测机构",
    "联系电话": "0519-85001234",
    "地址": "江苏省常州市质检路1号",
    "资质类别": "CMA",
    "证书编号": "CZ2026-0001",
    "资质范围": "6.3、6.4.3",
    "范围说明": "电线电缆",
    "有效期起": "2026-01-01",
    "有效期止": "2028-12-31",
}


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``python -m …`` as an operator runs it, in this test's environment."""
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(INSTITUTION))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def make_run_var(tmp_path, monkeypatch):
    """The environment of ``make run`` on a new machine: SQLite stores under
    QI_VAR_DIR and no key in the environment (make run keeps one there)."""
    for name in ("QI_CIPHER_KEY", "QI_DATABASE_URL", "QI_SEED_ACCOUNTS"):
        monkeypatch.delenv(name, raising=False)
    for service in config.SERVICES:
        monkeypatch.delenv(f"QI_{service.upper()}_DATABASE_URL", raising=False)
    var = tmp_path / "var"
    monkeypatch.setenv("QI_VAR_DIR", str(var))
    return var


def stored_states(app) -> list[bytes]:
    notifications = app.recorder.select_notifications(start=1, limit=10_000)
    return [bytes(n.state) for n in notifications]


def test_every_command_run_against_a_make_run_installation_sees_its_key(
    make_run_var, clean_broker, tmp_path
):
    services = support.ServicesProcess(
        {"QI_AMQP_URI": clean_broker, "QI_SEED_ACCOUNTS": str(DEMO_ACCOUNTS)}
    )
    services.start(timeout=60)
    try:
        assert (make_run_var / "cipher.key").exists()  # made by make run
        created = requests.post(
            f"{services.base_url}/api/v1/demands", json=FORM, timeout=10
        )
        assert created.status_code == 201, created.text

        imported = run(
            "services.catalog.csv_import",
            str(write_csv(tmp_path / "one.csv", [INSTITUTION])),
        )
        assert imported.returncode == 0, imported.stdout + imported.stderr
        assert "新登记机构 1 家，新增资质 1 项" in imported.stdout

        # the running catalog reads what the import stored, and its relay
        # publishes past it
        query = requests.get(
            f"{services.base_url}/api/v1/catalog/qualified-institutions",
            params={"item": "6.4.3", "on": "2026-07-01"},
            timeout=10,
        )
        assert query.status_code == 200, query.text
        codes = [i["institution_code"] for i in query.json()["institutions"]]
        assert INSTITUTION["机构代码"] in codes

        kernel = KernelStore("catalog")
        try:
            from services.catalog.application import CatalogApplication

            catalog = CatalogApplication()
            try:
                newest = catalog.recorder.max_notification_id()

                def published_all():
                    position = kernel.scalar(
                        select(relay_position.c.position).where(
                            relay_position.c.service == "catalog"
                        )
                    )
                    return position is not None and position >= newest

                support.wait_for(published_all, timeout=20)
                name = INSTITUTION["机构名称"].encode()
                assert not any(name in state for state in stored_states(catalog))
            finally:
                catalog.close()
        finally:
            kernel.close()

        verified = run("shared.verify")
        output = verified.stdout + verified.stderr
        assert verified.returncode == 0, output
        checked = dict(
            re.findall(
                r"^(\w+): (\d+) stream\(s\) checked, 0 broken$", verified.stdout, re.M
            )
        )
        assert list(checked) == list(APPLICATIONS), output  # one line each
        assert all(int(checked[s]) > 0 for s in ("intake", "catalog", "gateway"))
        assert len(verified.stdout.strip().splitlines()) == len(APPLICATIONS)
        assert "ALTERED" not in output and "UNREADABLE" not in output
        assert run("shared.verify", "intake").returncode == 0

        parked = run("shared.parked", "list")
        assert parked.returncode == 0, parked.stderr
        for service in config.SERVICES:
            assert f"{service}: no parked messages" in parked.stdout, parked.stdout

        health = requests.get(f"{services.base_url}/healthz", timeout=15)
        assert health.status_code == 200, health.text
    finally:
        services.stop()


def test_a_wrong_or_missing_key_is_reported_as_unreadable_never_as_altered(
    databases, monkeypatch, tmp_path
):
    from services.catalog.application import CatalogApplication
    from services.catalog.csv_import import import_csv
    from services.intake.application import IntakeApplication

    monkeypatch.delenv("QI_CIPHER_KEY", raising=False)
    # the key kept in QI_VAR_DIR, as make run keeps it
    key = config.kept_secret("cipher.key", lambda: AESCipher.create_key(32))
    intake = IntakeApplication()
    catalog = CatalogApplication()
    try:
        demand = intake.register_demand(FORM)
        import_csv(catalog, write_csv(tmp_path / "first.csv", [INSTITUTION]))
        stored = catalog.recorder.max_notification_id()
    finally:
        intake.close()
        catalog.close()
    assert run("shared.verify").returncode == 0

    other = AESCipher.create_key(32)
    assert other != key
    wrong = run("shared.verify", QI_CIPHER_KEY=other)
    output = wrong.stdout + wrong.stderr
    assert wrong.returncode == 2, output
    assert "ALTERED" not in output
    assert f"intake: 1 stream(s) checked, 0 broken, 1 {CANNOT_BE_READ}" in output
    assert f"UNREADABLE intake: 1 stream(s) {CANNOT_BE_READ}" in output
    assert "this key does not decrypt it" in output
    assert f"stream {demand['id']} version 1" in output

    kept = config.var_dir() / "cipher.key"
    kept.rename(kept.with_suffix(".away"))
    missing = run("shared.verify", "intake")
    output = missing.stdout + missing.stderr
    assert missing.returncode == 2 and "ALTERED" not in output, output
    assert CANNOT_BE_READ in output and "no key is set" in output

    # a keyless import into the encrypted catalog is refused: nothing stored
    refused = run(
        "services.catalog.csv_import",
        str(write_csv(tmp_path / "second.csv", [{**INSTITUTION, "证书编号": "X-2"}])),
    )
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert CANNOT_BE_READ in refused.stderr
    kept.with_suffix(".away").rename(kept)
    catalog = CatalogApplication()
    try:
        assert catalog.recorder.max_notification_id() == stored
    finally:
        catalog.close()

    # plaintext written among the encrypted events by a writer without the key
    keyless = IntakeApplication(env={"CIPHER_TOPIC": "", "CIPHER_KEY": ""})
    try:
        plain = keyless.register_demand({**FORM, "applicant": "无锡某线缆有限公司"})
    finally:
        keyless.close()
    mixed = run("shared.verify", "intake")
    output = mixed.stdout + mixed.stderr
    assert mixed.returncode == 2 and "ALTERED" not in output, output
    assert "stored without encryption, but a key is set" in output
    assert f"stream {plain['id']} version 1" in output
    assert f"intake: 2 stream(s) checked, 0 broken, 1 {CANNOT_BE_READ}" in output


def test_parked_lists_every_service_or_the_one_asked_for(databases):
    kernel = KernelStore("referral")
    try:
        ParkingLot(kernel).park(
            consumer="referral.on_demand_referred",
            queue="referral.demand_referred",
            event_id="intake:0001",
            source="intake",
            event_type="DemandReferred",
            position=7,
            payload={"type": "DemandReferred"},
            error="KeyError: 'institution'",
        )
    finally:
        kernel.close()

    every = run("shared.parked", "list")
    assert every.returncode == 0, every.stderr
    assert "referral: 1 parked message(s)" in every.stdout
    assert "intake.DemandReferred#7" in every.stdout
    for service in config.SERVICES:
        if service != "referral":
            assert f"{service}: no parked messages" in every.stdout, every.stdout

    one = run("shared.parked", "--service", "referral", "list")
    assert one.returncode == 0 and "intake.DemandReferred#7" in one.stdout
    assert "intake:" not in one.stdout  # no other service's heading
    replay = run("shared.parked", "replay", "--all")
    assert replay.returncode == 2 and "--service" in replay.stderr
