"""Routes of the JSON API, each declared once.

A route states its method and path, the use case it runs (which states the
roles allowed and the ownership rule of the object it touches), the JSON
Schema of its body, its query parameters and its answer. ``route`` registers
the declaration (the OpenAPI document and the access tests read the
registry) and makes the nameko ``@http`` entrypoint that serves it: refuse a
body that is not JSON and any NUL character, identify the caller, limit code
guessing, check role and object (before the body is read, so another
institution's object is "not found" whatever was sent), check the body
against its schema, replay an answer kept under an Idempotency-Key, and turn
the handler's plain data into JSON — or any failure into problem+json. A
handler only calls its use case.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from jsonschema import Draft202012Validator
from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from services.gateway.access import ANONYMOUS
from services.gateway.problems import json_response, problem
from services.gateway.replays import fingerprint
from services.gateway.routing import body as bodies
from services.gateway.routing import checked_answers
from services.gateway.routing.query import (
    checked_path,
    checked_query,
    field_with_nul,
    idempotency_key,
    page_of,
    paged,
    refuse_non_json,
)
from services.gateway.routing.refusals import refusal
from services.gateway.routing.uploads import refuse_oversized_upload
from services.gateway.usecases.operation import UseCase
from shared import logs
from shared.audit import Actor
from shared.errors import NotFound, ValidationFailed

PATH_PARAMETER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # OpenAPI's template: /api/v1/demands/{demand_id}
    use: UseCase
    summary: str
    body: dict | None = None  # JSON Schema of the body; None: none is read
    answer: dict | None = None  # JSON Schema of the answer on success
    query: tuple[dict, ...] = ()  # OpenAPI parameters of the query and headers
    status: int = 200
    media: tuple[str, ...] = ("application/json",)
    codes: tuple[int, ...] = ()  # problems the services may answer besides
    once: str = ""  # kept answers per Idempotency-Key, under this route name
    guard: str = ""  # counted against the client's guesses of codes
    inner: tuple[str, ...] = ()  # path ids of parts of the object reached
    location: str = ""  # the answer's Location, from its fields
    served_by: str = ""  # the one entrypoint of a family of commands
    # a file sent as multipart/form-data (its form fields beside it), of
    # these types: the handler reads and checks it (shared/blobs.py)
    upload: tuple[str, ...] = ()
    upload_fields: dict | None = None  # JSON Schema of the form's other fields

    @property
    def parameters(self) -> list[str]:
        return PATH_PARAMETER.findall(self.path)


REGISTRY: list[Route] = []


def declare(method: str, path: str, use: UseCase, summary: str, **options) -> Route:
    """Register a route; one whose path names an object its use case's owner
    rule does not check (or the reverse) is refused here, at import."""
    declared = Route(method.upper(), path, use, summary, **options)
    if not isinstance(use, UseCase):
        raise TypeError(f"{method} {path}: {use!r} is not a use case")
    named = set(declared.parameters) - {"command"}
    owned = set(use.owner.params)
    if not owned <= named or not named <= owned | set(declared.inner):
        raise ValueError(
            f"{method} {path}: path ids {sorted(named)} but the owner rule "
            f"{use.owner.name!r} checks {sorted(owned)}"
        )
    if declared.body is not None:
        Draft202012Validator.check_schema(declared.body)
    if any((r.method, r.path) == (declared.method, path) for r in REGISTRY):
        raise ValueError(f"{method} {path} is declared twice")
    REGISTRY.append(declared)
    return declared


@dataclass
class Call:
    """One request to a route, its caller and object already checked."""

    gw: object
    request: Request
    route: Route
    actor: Actor
    found: object
    ids: dict
    body: dict = field(default_factory=dict)

    def run(self, **inputs) -> object:
        """The route's use case on the object reached, with its path ids."""
        return self.route.use.run(self.gw, self.actor, self.found, **self.ids, **inputs)

    def arg(self, name: str, default: str = "") -> str:
        return self.request.args.get(name, default)

    def page(self) -> tuple[int, int]:
        return page_of(self.request)

    def paged(self, items: list) -> dict:
        return paged(self.request, items)


Handler = Callable[[object, Call], object]


def nameko_url(path: str) -> str:
    return PATH_PARAMETER.sub(r"<string:\1>", path)


def route(method: str, path: str, use: UseCase, summary: str, **options):
    """Declare a route and serve it with the decorated handler."""

    def serve_with(handler: Handler):
        declared = declare(method, path, use, summary, **options)

        def entrypoint(self, request, **ids):
            return serve(self, request, ids, lambda: (declared, handler))

        entrypoint.__name__ = handler.__name__
        entrypoint.__doc__ = handler.__doc__ or summary
        return http(declared.method, nameko_url(path))(entrypoint)

    return serve_with


def endpoint(
    method: str,
    path: str,
    use: UseCase,
    summary: str,
    inputs: Callable[[Call], dict] | None = None,
    paged: bool = False,
    **options,
):
    """A route whose handler only runs its use case, with ``inputs(call)``
    besides the path ids; a list answered a page at a time if ``paged``."""

    def handler(gw, call: Call) -> object:
        found = call.run(**(inputs(call) if inputs else {}))
        return call.paged(found) if paged else found

    handler.__name__ = use.func.__name__
    return route(method, path, use, summary, **options)(handler)


def form(call: Call) -> dict:
    """The body, whole, as the use case's ``form``."""
    return {"form": call.body}


def fields_of(call: Call) -> dict:
    """The body's fields as the use case's inputs (each one the body's schema
    requires, or absent as None)."""
    return {name: call.body.get(name) for name in call.route.body["properties"]}


def args_of(*names: str) -> Callable[[Call], dict]:
    """The named query parameters (empty when absent) as inputs."""
    return lambda call: {name: call.arg(name) for name in names}


def commands(method: str, path: str, family: dict[str, Route], handler: Handler):
    """One entrypoint serving a family of routes, ``{command}`` choosing the
    member (each declared on its own, with its own roles and body)."""

    def entrypoint(self, request, **ids):
        def member():
            command = ids.pop("command")
            if command not in family:
                raise NotFound(command)
            return family[command], handler

        return serve(self, request, ids, member)

    entrypoint.__name__ = handler.__name__
    entrypoint.__doc__ = handler.__doc__
    return http(method, nameko_url(path))(entrypoint)


def serve(gw, request, ids: dict, member) -> Response:
    logs.current_service.set("gateway")
    name = request.path
    try:
        declared, handler = member()
        if declared.upload:
            refuse_oversized_upload(request)
        else:
            refuse_non_json(request)
        nul = field_with_nul(request, *ids.values())
        if nul is not None:
            raise ValidationFailed.single(nul, bodies.NUL_MESSAGE)
        name = handler.__name__
        use = declared.use
        actor = ANONYMOUS if use.roles is None else gw.caller(request)
        if declared.guard:
            gw.count_guess(request, declared.guard)
        if actor is ANONYMOUS and declared.method != "GET" and opens_to_anyone(use):
            gw.count_anonymous_write(request)  # per address (429)
        use.allow(actor)  # who may not use the route learns nothing of its ids
        checked_path(ids)  # an id that names nothing: 404, no service asked
        found = use.reach(gw, actor, ids)
        checked_query(request, declared.query)
        body = {} if declared.body is None else bodies.checked(request, declared.body)
        call = Call(gw, request, declared, actor, found, ids, body)
        if declared.once:
            return _once(call, lambda: answered(declared, handler(gw, call)))
        return answered(declared, handler(gw, call))
    except Exception as exc:  # noqa: BLE001 - every failure has its answer
        refused = refusal(exc, name)
        response = problem(
            refused.status, refused.title, refused.detail, refused.errors
        )
        response.headers.update(refused.headers)
        response.headers["Cache-Control"] = "no-store"
        return response


def answered(declared: Route, result: object) -> Response:
    """A handler's plain data as JSON with the route's status (checked
    against the route's answer schema with QI_CHECK_ANSWERS: checked_answers)."""
    if isinstance(result, Response):  # a file: a case export, a report, a PDF
        if not public_data(declared):
            result.headers.setdefault("Cache-Control", "no-store")
        return result
    headers = {} if public_data(declared) else {"Cache-Control": "no-store"}
    if declared.location:
        headers["Location"] = declared.location.format(**result)
    response = json_response(result, declared.status, headers)
    if checked_answers.enabled() and checked_answers.mismatch(
        declared.method,
        declared.path,
        declared.answer,
        response.get_data(as_text=True),
    ):  # a test run: an answer unlike its documented schema fails (500)
        failed = problem(500, "服务器内部错误", "系统出错了，请稍后再试")
        failed.headers["Cache-Control"] = "no-store"
        return failed
    return response


def opens_to_anyone(use: UseCase) -> bool:
    """A use case a caller without a login may run (a customer's)."""
    return use.roles is None or use.anonymous


# what anyone may read and a cache may keep: the catalog and the service guide
PUBLIC_CATALOG = ("/api/v1/catalog/", "/api/v1/public/guide")


def public_data(declared: Route) -> bool:
    """A read of public catalog data (no login, no code), which a browser or
    proxy may keep; every other answer may carry personal data or a
    credential and is sent ``Cache-Control: no-store`` (7.3.3)."""
    return (
        declared.method == "GET"
        and declared.use.roles is None
        and declared.use.owner.name in ("public", "catalog item")
        and declared.path.startswith(PUBLIC_CATALOG)
    )


def _once(call: Call, command: Callable[[], Response]) -> Response:
    """With an Idempotency-Key, a retry (same route, same body) gets the
    first answer and the command does not run again; the key with another
    body or route is refused (422) before anything runs or is kept
    (services/gateway/replays.py). A refused command is not kept: the client
    may correct it and send it again with the same key."""
    key = idempotency_key(call.request)
    if not key:
        return command()
    replays = call.gw.app.replays
    caller = call.actor.id
    if call.actor is ANONYMOUS:  # one customer's keys are not another's
        caller = f"{caller}@{call.gw.client(call.request)}"
    request = fingerprint(call.route.once.format(**call.ids), call.body)
    done = replays.recall(key, caller, request)
    if done is not None:
        return Response(
            done[1],
            status=done[0],
            mimetype="application/json",
            headers={"Cache-Control": "no-store"},
        )
    response = command()
    if response.status_code < 300:
        replays.keep(
            key, caller, request, response.status_code, response.get_data(as_text=True)
        )
    return response
