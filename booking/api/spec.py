"""The route registry: each API route is declared once with its models, and that declaration
drives request parsing, response serialisation, CORS, the OpenAPI document and the HTML docs."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from flask import Blueprint, Response, request
from flask_cors import cross_origin
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from booking.api import schemas
from booking.api.auth import AuthError, api_user
from booking.errors import PROBLEM_BASE, problem

Auth = Literal["none", "required"]

ERROR_TEXT = {
    400: "Bad request.",
    401: "Missing, invalid or revoked token (`WWW-Authenticate: Bearer`).",
    403: "Not permitted for this user.",
    404: "No such resource, or not visible to this user.",
    409: "Conflict: dates cannot be booked (`conflicts` lists each with its reasons), or the "
    "status change is not possible (`invalid_transition`).",
    413: "Request body too large.",
    415: "The body must be `application/json`.",
    422: "Invalid input; `field` names the culprit, `errors` lists all.",
    429: "Too many requests; see `Retry-After`.",
    503: "The database cannot be reached or stays busy (`database_unavailable`); nothing was "
    "changed. Try again after `Retry-After` seconds.",
}

MAX_BODY = 256 * 1024

ERROR_EXAMPLES = {
    409: schemas.problem_example(
        409,
        "conflict",
        "1 date cannot be booked (taken).",
        detail="1 date cannot be booked (taken).",
        conflicts=[
            {
                "start": "2026-10-06T16:00:00+00:00",
                "end": "2026-10-06T18:00:00+00:00",
                "local_start": "2026-10-06T18:00:00+02:00",
                "reasons": [
                    {"reason": "taken", "message": "already booked 17:00-19:00", "label": None}
                ],
            }
        ],
    ),
    422: schemas.problem_example(
        422,
        "invalid",
        "The request is invalid.",
        detail="recurrence.count: Input should be less than or equal to 500",
        field="recurrence.count",
        errors=[
            {
                "field": "recurrence.count",
                "message": "Input should be less than or equal to 500",
                "type": "less_than_equal",
            }
        ],
    ),
}


@dataclass(frozen=True)
class Header:
    """A request header an operation reads (the view parses it), or a response header it may
    send: documented in the OpenAPI document."""

    name: str
    description: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class Refusal:
    """A 422 that a request the schema allows can still get, because the rule is beyond what a
    JSON Schema can say (the end after the start, a date in a booking, a key in the equipment
    list). The operation's 422 answer lists each as a problem+json example naming the field."""

    field: str
    code: str
    message: str


CURSOR_REFUSAL = Refusal("cursor", "invalid", "This cursor is not valid (use `next` as it is).")


def calendar_refusal(name: str) -> Refusal:
    return Refusal(name, "invalid", "A day the calendar does not have, such as 2030-02-30.")


@dataclass
class Operation:
    endpoint: str
    method: str
    rule: str
    summary: str
    description: str
    tag: str
    response: type[BaseModel] | None
    status: int = 200
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    body_required: bool = True
    auth: Auth = "none"
    errors: tuple[int, ...] = ()
    public: bool = False  # readable from any origin (CORS)
    raw: bool = False  # the view returns its own Response (openapi.json, docs)
    # A body that is not JSON (an uploaded file): its media type; the view gets the bytes.
    body_media: str | None = None
    path_params: list[str] = field(default_factory=list)
    headers: tuple[Header, ...] = ()  # optional request headers
    response_headers: tuple[Header, ...] = ()  # headers the success answer may carry
    refusals: tuple[Refusal, ...] = ()  # 422s beyond the schema, besides cursors and dates

    @property
    def path(self) -> str:
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.rule)

    @property
    def operation_id(self) -> str:
        return self.endpoint

    @property
    def error_statuses(self) -> list[int]:
        statuses = set(self.errors) | {429, 503}
        if self.auth == "required":
            statuses.add(401)
        elif not self.raw:
            statuses.add(401)  # a token that is sent must be valid, even for public data
        if self.path_params:
            statuses.add(404)
        if self.query is not None or self.body is not None:
            statuses.add(422)
        if self.body is not None:
            statuses |= {400, 413, 415}
        if self.body_media is not None:
            statuses |= {413, 415, 422}
        return sorted(statuses)


class ApiValidationError(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else "invalid")
        self.errors = errors


REGISTRY: list[Operation] = []


def _loc(loc: tuple[Any, ...], prefix: str = "") -> str:
    parts = [str(p) for p in loc]
    if prefix and not parts:
        return prefix
    return ".".join(parts) or "body"


def _field_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, Any]]:
    # No "input" in the answer: it may be 100,000 characters, or someone else's data.
    return [
        {"field": _loc(e["loc"], prefix), "message": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


def _parse_query(model: type[BaseModel]) -> BaseModel:
    values: dict[str, Any] = {}
    for key in request.args:
        items = request.args.getlist(key)
        values[key] = items[-1] if items else ""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise ApiValidationError(_field_errors(exc)) from None


def _parse_body(model: type[BaseModel], required: bool) -> BaseModel | None:
    if (request.content_length or 0) > MAX_BODY:
        raise _ProblemExit(problem(413, "too_large", "The request body is too large."))
    data = request.get_data(cache=True)
    if len(data) > MAX_BODY:
        raise _ProblemExit(problem(413, "too_large", "The request body is too large."))
    if not data.strip():
        if required:
            raise ApiValidationError(
                [{"field": "body", "message": "A JSON body is required.", "type": "missing"}]
            )
        return model()
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise _ProblemExit(
            problem(
                415,
                "unsupported_media_type",
                "Send the body as application/json.",
                f"Got {mimetype or 'no content type'}.",
            )
        )
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        errors = _field_errors(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            raise _ProblemExit(
                problem(400, "malformed_json", "The body is not valid JSON.", errors[0]["message"])
            ) from None
        if any(e["type"] == "model_type" and e["field"] == "body" for e in errors):
            errors = [
                {"field": "body", "message": "The body must be a JSON object.", "type": "type"}
            ]
        raise ApiValidationError(errors) from None


# Besides its own media type, a file body is taken as plain bytes (application/octet-stream) or
# with no content type at all.
RAW_BODY_TYPES = ("", "application/octet-stream")


def _parse_raw_body(media: str) -> bytes:
    if (request.content_length or 0) > MAX_BODY:
        raise _ProblemExit(problem(413, "too_large", "The request body is too large."))
    data = request.get_data(cache=True)
    if len(data) > MAX_BODY:
        raise _ProblemExit(problem(413, "too_large", "The request body is too large."))
    mimetype = request.mimetype or ""
    if mimetype != media and mimetype not in RAW_BODY_TYPES:
        raise _ProblemExit(
            problem(
                415,
                "unsupported_media_type",
                f"Send the body as {media}.",
                f"Got {mimetype or 'no content type'}.",
            )
        )
    if not data.strip():
        raise ApiValidationError(
            [{"field": "body", "message": f"A {media} body is required.", "type": "missing"}]
        )
    return data


class _ProblemExit(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def validation_problem(errors: list[dict[str, Any]]) -> Response:
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    return problem(
        422,
        "invalid",
        "The request is invalid.",
        f"{first['field']}: {first['message']}",
        field=first["field"],
        errors=errors,
    )


def auth_problem(exc: AuthError) -> Response:
    response = problem(401, "unauthorized", "Authentication required.", exc.message)
    challenge = 'Bearer realm="api"'
    if exc.error:
        challenge += f', error="{exc.error}"'
    response.headers["WWW-Authenticate"] = challenge
    return response


def serialise(value: BaseModel | Response, status: int) -> Response:
    if isinstance(value, Response):
        return value
    # pydantic writes the JSON itself (in Rust), instead of a dict of every field that the
    # standard json module then writes: a list of 200 rooms is ~90 KB.
    return Response(value.model_dump_json(by_alias=True), status, mimetype="application/json")


def operation(
    bp: Blueprint,
    method: str,
    rule: str,
    *,
    summary: str,
    tag: str,
    response: type[BaseModel] | None,
    status: int = 200,
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    body_required: bool = True,
    auth: Auth = "none",
    errors: tuple[int, ...] = (),
    public: bool = False,
    raw: bool = False,
    body_media: str | None = None,
    headers: tuple[Header, ...] = (),
    response_headers: tuple[Header, ...] = (),
    refusals: tuple[Refusal, ...] = (),
) -> Callable:
    """Register a route on ``bp`` and in the registry.

    The view gets the path values, ``user`` (None for anonymous callers of public routes) and,
    when declared, ``query``/``body`` as validated models (``body_media``: ``body`` as the bytes
    of a non-JSON body of that media type); it returns a response model. ``refusals`` are the
    422s the view or its service gives to input the schema allows (invalid cursors and days
    like 2030-02-30 of timestamp fields are found by themselves).
    """

    def decorator(func: Callable) -> Callable:
        op = Operation(
            endpoint=func.__name__,
            method=method.upper(),
            rule=rule,
            summary=summary,
            description=(func.__doc__ or "").strip(),
            tag=tag,
            response=response,
            status=status,
            query=query,
            body=body,
            body_required=body_required,
            auth=auth,
            errors=errors,
            public=public,
            raw=raw,
            body_media=body_media,
            path_params=re.findall(r"<(?:\w+:)?(\w+)>", rule),
            headers=headers,
            response_headers=response_headers,
            refusals=refusals,
        )

        @functools.wraps(func)
        def view(**path_values: Any) -> Response:
            for name, value in path_values.items():
                if isinstance(value, int) and value > schemas.MAX_ID:
                    return problem(
                        404, "not_found", f"There is no such {name.removesuffix('_id')}."
                    )
            try:
                user = None if raw else api_user(required=auth == "required")
                kwargs: dict[str, Any] = dict(path_values)
                if not raw:
                    kwargs["user"] = user
                if query is not None:
                    kwargs["query"] = _parse_query(query)
                if body is not None:
                    kwargs["body"] = _parse_body(body, body_required)
                elif body_media is not None:
                    kwargs["body"] = _parse_raw_body(body_media)
                return serialise(func(**kwargs), status)
            except AuthError as exc:
                return auth_problem(exc)
            except ApiValidationError as exc:
                return validation_problem(exc.errors)
            except _ProblemExit as exc:
                return exc.response

        wrapped: Callable = public_cors(view) if public else view
        bp.add_url_rule(rule, endpoint=op.endpoint, view_func=wrapped, methods=[op.method])
        REGISTRY.append(op)
        return view

    return decorator


def describe(
    method: str, rule: str, *, endpoint: str, summary: str, tag: str, public: bool = False
) -> None:
    """List a route that another surface serves under ``/api/v1`` (the HTML docs are a web
    page) in the registry, so that the OpenAPI document and the docs describe it too."""
    REGISTRY.append(
        Operation(
            endpoint=endpoint,
            method=method.upper(),
            rule=rule,
            summary=summary,
            description="",
            tag=tag,
            response=None,
            public=public,
            raw=True,
        )
    )


def public_cors(view: Callable) -> Callable:
    """Readable from any origin: the CORS answer of every ``public`` route."""
    return cross_origin(
        origins="*",
        methods=["GET", "HEAD"],
        send_wildcard=True,
        allow_headers=["Accept", "Accept-Language", "Content-Type"],
        max_age=86400,
    )(view)


# --- OpenAPI ----------------------------------------------------------------------------------

REF = "#/components/schemas/{model}"


def _without_null(prop: dict[str, Any]) -> dict[str, Any]:
    """``X | None`` query parameters: absent means None; a query string cannot carry a null."""
    options = [o for o in prop.get("anyOf", ()) if o != {"type": "null"}]
    if "anyOf" in prop and len(options) == 1:
        del prop["anyOf"]
        prop = {**options[0], **prop}
    if "default" in prop and prop["default"] is None:
        del prop["default"]
    return prop


def _parameters(op: Operation, defs: dict[str, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": schemas.MAX_ID},
        }
        for name in op.path_params
    ]
    if op.query is not None:
        query_schema = op.query.model_json_schema(ref_template=REF, by_alias=True)
        defs.update(query_schema.pop("$defs", {}))
        required = set(query_schema.get("required", []))
        for name, prop in query_schema.get("properties", {}).items():
            prop = _without_null(dict(prop))
            description = prop.pop("description", None)
            prop.pop("title", None)
            param: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": prop,
            }
            if description:
                param["description"] = description
            params.append(param)
    params.extend(
        {
            "name": header.name,
            "in": "header",
            "required": False,
            "description": header.description,
            "schema": header.schema,
        }
        for header in op.headers
    )
    return params


def _refusals(op: Operation) -> list[Refusal]:
    """The operation's 422s beyond the schema: its own, a cursor this API did not hand out, and
    days the calendar lacks in timestamp parameters and top-level body fields."""
    found = list(op.refusals)
    properties: dict[str, Any] = {}
    if op.query is not None:
        properties |= op.query.model_json_schema(by_alias=True).get("properties", {})
    if op.body is not None:
        properties |= op.body.model_json_schema(by_alias=True).get("properties", {})
    if "cursor" in properties and op.query is not None:
        found.append(CURSOR_REFUSAL)
    for name, prop in properties.items():
        options = prop.get("anyOf", [prop])
        if any(o.get("pattern") == schemas.LOCAL_OR_OFFSET for o in options):
            found.append(calendar_refusal(name))
    return found


def _refusal_examples(op: Operation) -> dict[str, Any]:
    examples: dict[str, Any] = {}
    if op.body is not None:
        examples["schema"] = {"summary": "The body breaks the schema", "value": ERROR_EXAMPLES[422]}
    for refusal in _refusals(op):
        examples[f"{refusal.field}:{refusal.code}"] = {
            "summary": f"`{refusal.field}`: {refusal.message}",
            "value": schemas.problem_example(
                422,
                refusal.code,
                refusal.message,
                detail=f"{refusal.field}: {refusal.message}",
                field=refusal.field,
                errors=[{"field": refusal.field, "message": refusal.message}],
            )
            | {"type": PROBLEM_BASE + "invalid"},
        }
    return examples


def openapi_document() -> dict[str, Any]:
    """OpenAPI 3.1, assembled from the registry and the pydantic models' JSON Schemas."""
    models: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (schemas.Problem, "serialization")
    ]
    for op in REGISTRY:
        if op.body is not None:
            models.append((op.body, "validation"))
        if op.response is not None:
            models.append((op.response, "serialization"))
    refs, top = models_json_schema(models, ref_template=REF, by_alias=True)
    components: dict[str, Any] = dict(top.get("$defs", {}))
    problem_ref = refs[(schemas.Problem, "serialization")]
    paths: dict[str, dict[str, Any]] = {}
    for op in REGISTRY:
        responses: dict[str, Any] = {}
        if op.response is not None:
            responses[str(op.status)] = {
                "description": op.summary,
                "content": {"application/json": {"schema": refs[(op.response, "serialization")]}},
            }
        elif op.raw:
            responses[str(op.status)] = {"description": op.summary}
        if op.response_headers:
            responses[str(op.status)]["headers"] = {
                h.name: {"description": h.description, "schema": h.schema}
                for h in op.response_headers
            }
        for code in op.error_statuses:
            content: dict[str, Any] = {"schema": problem_ref}
            description = ERROR_TEXT.get(code, "Error.")
            refusals = _refusal_examples(op) if code == 422 else {}
            if any(key != "schema" for key in refusals):
                content["examples"] = refusals
                description += " Also for input the schema allows: " + "; ".join(
                    example["summary"].rstrip(".")
                    for key, example in refusals.items()
                    if key != "schema"
                )
                description += "."
            elif code in ERROR_EXAMPLES and code in op.errors + ((422,) if op.body else ()):
                content["example"] = ERROR_EXAMPLES[code]
            responses[str(code)] = {
                "description": description,
                "content": {"application/problem+json": content},
            }
        entry: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": [op.tag],
            "responses": responses,
        }
        if op.description:
            entry["description"] = op.description
        params = _parameters(op, components)
        if params:
            entry["parameters"] = params
        if op.body is not None:
            entry["requestBody"] = {
                "required": op.body_required,
                "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
            }
        elif op.body_media is not None:
            entry["requestBody"] = {
                "required": True,
                # Empty or blank is refused (422): not a document of that media type at all.
                "content": {
                    op.body_media: {"schema": {"type": "string", "minLength": 1, "pattern": r"\S"}}
                },
            }
        entry["security"] = [{"bearer": []}] if op.auth == "required" else [{}, {"bearer": []}]
        paths.setdefault("/api/v1" + op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Raumbörse API",
            "version": "1.0.0",
            "description": "Rooms, availability, open offers and bookings of Raumbörse. "
            "Human-readable documentation: /api/v1/docs.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token created on the profile page or with "
                    "`flask create-token`.",
                }
            },
        },
    }


def openapi_json() -> str:
    return json.dumps(openapi_document(), ensure_ascii=False, indent=2)
