"""The OpenAPI 3.1 document of the JSON API, written from the routes'
declarations: path, summary, roles and ownership rule (``x-roles``,
``x-owner``), query parameters, request body schema and answers.

The problems a route may answer follow from what it declares: 400 for any
input, 401 and 403 where a login is needed, 404 for an object or a login
(a service may find nothing), 409 for a write (concurrent writers), 415 for a
body, 429 for a route that counts guesses, and the extra codes it names.
"""

from __future__ import annotations

from services.gateway.routing.answers import FILE, HTML, STRING
from services.gateway.routing.declare import REGISTRY, Route, opens_to_anyone
from services.gateway.routing.query import IDEMPOTENCY_KEY, path_schema

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def problem_answers(*codes: int) -> dict:
    return {
        str(code): {
            "description": "问题",
            "content": {"application/problem+json": {"schema": PROBLEM}},
        }
        for code in sorted(codes)
    }


def codes_of(declared: Route) -> set[int]:
    use = declared.use
    # a service that did not answer in time (QI_RPC_TIMEOUT_SECONDS)
    codes = set(declared.codes) | {503}
    if declared.body is not None or declared.query or declared.parameters:
        codes.add(400)
    if use.roles is not None:
        codes |= {401, 403, 404}
    if declared.parameters:
        codes.add(404)
    if declared.method == "POST":
        codes.add(409)
    if declared.body is not None:
        codes.add(415)
    if declared.upload:
        codes |= {400, 413}
    if declared.guard or (opens_to_anyone(use) and declared.method != "GET"):
        codes.add(429)  # guesses of codes; writes without a login per address
    if declared.once:
        codes.add(422)  # an Idempotency-Key reused for another request
    return codes


def answer_of(declared: Route, media: str) -> dict:
    """The schema of a success answer in ``media``: the route's declared
    answer for JSON, text for a page or a file."""
    if media == "application/json" or media.endswith("+json"):
        return declared.answer if declared.answer is not None else {}
    return HTML if media == "text/html" else FILE


def upload_body(declared: Route) -> dict:
    """A file and its form fields as multipart/form-data."""
    fields = declared.upload_fields or {}
    schema = {
        "type": "object",
        "required": ["file", *fields.get("required", ())],
        "properties": {
            "file": {
                "type": "string",
                "format": "binary",
                "title": "文件（" + "、".join(declared.upload) + "）",
            },
            **fields.get("properties", {}),
        },
    }
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


def operation(declared: Route) -> dict:
    use = declared.use
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": path_schema(name)}
        for name in declared.parameters
    ]
    parameters += list(declared.query)
    if declared.once and IDEMPOTENCY_KEY not in parameters:
        parameters.append(IDEMPOTENCY_KEY)
    described: dict = {
        "summary": declared.summary,
        "x-roles": sorted(use.roles) if use.roles is not None else "public",
        "x-owner": {"rule": use.owner.name, "summary": use.owner.summary},
        "responses": {
            str(declared.status): {
                "description": "成功",
                "content": {
                    media: {"schema": answer_of(declared, media)}
                    for media in declared.media
                },
            },
            **problem_answers(*codes_of(declared)),
        },
    }
    if parameters:
        described["parameters"] = parameters
    if declared.body is not None:
        described["requestBody"] = {
            "required": bool(declared.body.get("required")),
            "content": {"application/json": {"schema": declared.body}},
        }
    if declared.upload:
        described["requestBody"] = upload_body(declared)
    if use.roles is None:
        described["security"] = []
    elif use.anonymous:
        described["security"] = [{}, {"bearer": []}]
    return described


def document(routes: list[Route] | None = None) -> dict:
    """OpenAPI 3.1 of every declared route."""
    paths: dict = {}
    for declared in REGISTRY if routes is None else routes:
        paths.setdefault(declared.path, {})[declared.method.lower()] = operation(
            declared
        )
    return {
        "openapi": "3.1.0",
        "info": {"title": "qi-onestop 一站式服务平台 API", "version": "1"},
        "paths": paths,
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Problem": {
                    "type": "object",
                    "properties": {
                        "type": STRING,
                        "title": STRING,
                        "status": {"type": "integer", "minimum": 400, "maximum": 599},
                        "detail": STRING,
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"field": STRING, "message": STRING},
                                "required": ["field", "message"],
                            },
                        },
                    },
                    "required": ["type", "title", "status"],
                }
            },
        },
    }
