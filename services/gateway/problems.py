"""HTTP answers: JSON bodies and RFC 9457 problem details naming fields."""

from __future__ import annotations

import json

from werkzeug.wrappers import Response

PROBLEM = "application/problem+json"


def json_response(body: object, status: int = 200, headers: dict | None = None):
    return Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        mimetype="application/json",
        headers=headers or {},
    )


def problem(status: int, title: str, detail: str = "", errors: list | None = None):
    body: dict = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM
    )


def download(body: bytes | str, mimetype: str, name: str, headers: dict | None = None):
    """A file to save (a PDF summary, a case export): its name, never shown."""
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, mimetype=mimetype, headers={**disposition, **(headers or {})})
