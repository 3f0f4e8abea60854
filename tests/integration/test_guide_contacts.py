"""The public guide's contacts (5.1.5, 9.1.1) over HTTP: nothing invented on a
new installation (12315 is the national hotline, not an institution's phone),
the public page says 未设置 until an admin sets them, and then shows them.

Services run in this process on the real RabbitMQ, stores on PostgreSQL.
"""

import requests

from tests.integration import test_gateway_access as access_tests

backend = access_tests.backend
gateway = access_tests.gateway


def test_contacts_are_unset_until_an_admin_sets_them(gateway):
    guide = gateway.get("/api/v1/public/guide").json()
    assert [guide[f] for f in ("service_phone", "complaint_phone")] == ["", ""]
    assert guide["suggestion_email"] == "" and guide["address"] == ""
    page = requests.get(f"{gateway.base}/", timeout=10)
    assert page.status_code == 200
    assert page.text.count("未设置") == 4 and "12315" not in page.text

    revised = gateway.post(
        "/api/v1/catalog/guide/revision", {"complaint_phone": "025-66668888"}, "admin"
    )
    assert revised.status_code == 200, revised.text
    page = requests.get(f"{gateway.base}/", timeout=10)
    assert "025-66668888" in page.text and page.text.count("未设置") == 3
