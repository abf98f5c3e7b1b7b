"""The plan as JSON, and the OpenAPI document that describes it."""

import hashlib
import json
from dataclasses import dataclass
from functools import wraps
from typing import Annotated

from django.http import HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import condition

from advisor.learners.forms import MAX_CREDENTIALS, MAX_QUERY_LENGTH, MAX_YEARS, PlanQueryForm
from advisor.pagecache.front import share
from advisor.pagecache.store import release
from pathways import plan_shapes, presenter, rules, shapes
from pathways.reference import load_reference
from pathways.shapes import Doc

# Clients may reuse a plan for a minute without asking; after that the ETag (reference-data
# version + normalised query) makes the check a cheap 304.
CACHE_CONTROL = "public, max-age=60"
ALLOW = "GET, HEAD, OPTIONS"


@dataclass(frozen=True, slots=True)
class Errors:
    """A 400: what is wrong with the query."""

    errors: Annotated[
        dict[str, Annotated[list[str], Doc(minItems=1)]],
        Doc(
            description='One list of messages per parameter; "__all__" for the query as a whole.',
            propertyNames={"enum": [*PlanQueryForm.base_fields, "__all__"]},
            minProperties=1,
        ),
    ]


def plan_body(form: PlanQueryForm) -> bytes:
    """The JSON body of a valid query."""
    plan = rules.build_plan(form.profile, form.reference)
    return json.dumps(presenter.plan_json(plan, form.reference), ensure_ascii=False, separators=(",", ":")).encode()


def _plan_query(request) -> PlanQueryForm:
    """The request's plan parameters, parsed once for both the ETag and the view."""
    if not hasattr(request, "plan_query"):
        request.plan_query = PlanQueryForm.from_request(request, reference=load_reference())
    return request.plan_query


def _plan_etag(request) -> str | None:
    form = _plan_query(request)
    if not form.is_valid():
        return None  # no ETag, no 304: the view answers 400
    # The release too: a deploy may change what a plan says, and a client's copy from before it must not get a 304.
    digest = hashlib.blake2b(f"{release()}\n{form.canonical_query()}".encode(), digest_size=12).hexdigest()
    return _weak(f"v{form.reference.version}-{digest}")


def _weak(tag: str) -> str:
    # Weak from the start: GZipMiddleware weakens a strong tag on the compressed 200 but not on the empty 304,
    # so a strong tag would reach clients as W/"x" on one and "x" on the other. The bodies of one tag are the
    # same JSON in any encoding, which is what a weak tag promises.
    return f'W/"{tag}"'


def _revalidatable(view):
    """Cache-Control and Vary on a 200 and on its 304 alike (RFC 9110 15.4.5): the condition decorator answers a
    304 without the view, and GZipMiddleware adds Vary only to the bodies it could compress."""

    @wraps(view)
    def wrapper(request):
        response = view(request)
        if response.status_code in (200, 304):
            response["Cache-Control"] = CACHE_CONTROL
            patch_vary_headers(response, ["Accept-Encoding"])
        return response

    return wrapper


def _errors(status: int, messages: dict[str, list[str]]) -> JsonResponse:
    response = JsonResponse(shapes.as_json(Errors(errors=messages)), status=status)
    response["Cache-Control"] = "no-cache"
    return response


def _get_or_head(view):
    """405 as JSON with an Allow header for any other method (require_safe's is an empty text/html page).
    OPTIONS never gets here: PublicApiMiddleware answers it (CORS preflight)."""

    @wraps(view)
    def wrapper(request):
        if request.method not in ("GET", "HEAD"):
            response = _errors(405, {"__all__": [f"{request.method} is not allowed here: use GET or HEAD."]})
            response["Allow"] = ALLOW
            return response
        return view(request)

    return wrapper


def _query_not_too_long(view):
    @wraps(view)
    def wrapper(request):
        if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_LENGTH:
            return _errors(414, {"__all__": [f"The query is longer than {MAX_QUERY_LENGTH} characters."]})
        return view(request)

    return wrapper


# Read-only JSON: without csrf_exempt, CsrfViewMiddleware answers any other method (POST, QUERY...)
# with an HTML 403 before the documented 405 with an Allow header.
@csrf_exempt
@_get_or_head
@_query_not_too_long
@_revalidatable
@condition(etag_func=_plan_etag)
def plan_json(request):
    form = _plan_query(request)
    if not form.is_valid():
        return _errors(400, form.errors_as_dict())
    # Shareable: the page cache in front of Django answers the same URL again.
    return share(HttpResponse(plan_body(form), content_type="application/json"), form.canonical_query())


def _document_etag(request) -> str:
    # The document changes with the reference data (its enums) and with the code (a deploy).
    return _weak(f"v{load_reference().version}-{hashlib.blake2b(release().encode(), digest_size=8).hexdigest()}")


@csrf_exempt
@_get_or_head
@_revalidatable
@condition(etag_func=_document_etag)
def openapi(request):
    return JsonResponse(openapi_document(load_reference()), json_dumps_params={"indent": 2})


# --- The OpenAPI 3.1 document ------------------------------------------------------------------
# Its schemas are derived from the shapes the responses are built from (pathways.shapes): Plan and Errors.


def openapi_document(reference: rules.Reference) -> dict:
    """The document for this reference data: its countries and credentials are the parameters' enums, so a country
    content staff add is in the document as soon as it is in the plans."""
    countries = sorted(reference.countries)
    any_case = " Accepted in any case; the enum lists the canonical spelling. No surrounding spaces."
    parameters = [
        {
            "name": "origin",
            "in": "query",
            "required": True,
            "description": 'Country the learner trained in (ISO 3166-1 alpha-2), or "none" for someone not trained '
            "yet." + any_case,
            "schema": {"type": "string", "enum": [*countries, "none"]},
        },
        {
            "name": "credential",
            "in": "query",
            "required": False,
            "description": f"A credential code the learner holds; repeatable, at most {MAX_CREDENTIALS} values "
            "(a repeated code counts each time, then is folded into one)." + any_case,
            "schema": {
                "type": "array",
                "items": {"type": "string", "enum": sorted(reference.credentials)},
                "maxItems": MAX_CREDENTIALS,
            },
            "style": "form",
            "explode": True,
        },
        {
            "name": "setting",
            "in": "query",
            "required": False,
            "description": (
                'Where the learner codes (someone new to coding: wants to code); default "both". It counts only where '
                "the origin's classifications (new to coding: the destination's) differ by setting; elsewhere the plan "
                "is for the settings those classifications cover, and its `setting` field says which." + any_case
            ),
            "schema": {"type": "string", "enum": list(rules.SETTINGS), "default": "both"},
        },
        {
            "name": "years",
            "in": "query",
            "required": False,
            "description": "Whole years of coding experience, in digits (no sign, spaces or decimal point).",
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_YEARS},
        },
        {
            "name": "destination",
            "in": "query",
            "required": True,
            "description": "Country the learner wants to work in (ISO 3166-1 alpha-2)." + any_case,
            "schema": {"type": "string", "enum": countries},
        },
    ]
    json_of = lambda name: {"application/json": {"schema": {"$ref": shapes.REF + name}}}  # noqa: E731
    string = {"type": "string"}
    header = lambda description: {"schema": string, "description": description}  # noqa: E731
    cors = {"Access-Control-Allow-Origin": header('Always "*": any web page may read the API (no credentials).')}
    revalidation = {
        "ETag": header("A weak tag: reference-data version, release and normalised query (plan) or document."),
        "Cache-Control": header(f'"{CACHE_CONTROL}".'),
        "Vary": header('"Accept-Encoding".'),
        **cors,
    }
    not_modified = {
        "description": "Not modified: If-None-Match matched the ETag. No body; the same ETag, Cache-Control and "
        "Vary as the 200.",
        "headers": revalidation,
    }
    errors = lambda description, **headers: {  # noqa: E731
        "description": description,
        "headers": {**cors, **headers},
        "content": json_of("Errors"),
    }
    method_not_allowed = errors(
        'Any method but GET, HEAD and OPTIONS (a CORS preflight, answered 204). "__all__" says which.',
        Allow=header(f'"{ALLOW}".'),
    )
    conditional = {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "ETags of copies the client holds; a match gets a 304.",
        "schema": string,
    }
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Coding Pathways plan API",
            "version": "1.0.0",
            "description": "A retraining plan for a clinical or medical coder moving between countries. Public, "
            "read-only and cookie-free; any web page may call it (CORS, no credentials). Response objects may gain "
            "fields (none are removed or renamed): clients should ignore fields they do not know.",
        },
        # Relative: the document never repeats a Host or X-Forwarded-Proto header a client could forge.
        "servers": [{"url": "/"}],
        "paths": {
            "/api/plan/": {
                "get": {
                    "operationId": "getPlan",
                    "summary": "The retraining plan for one learner profile",
                    "description": "A parameter given twice (other than credential) or any non-UTF-8 byte is a 400. "
                    "Every origin has a route to every destination, so any combination of the enums is a plan.",
                    "parameters": [*parameters, conditional],
                    "responses": {
                        "200": {"description": "The plan.", "headers": revalidation, "content": json_of("Plan")},
                        "304": not_modified,
                        "400": errors("Bad parameters: one message list per parameter."),
                        "405": method_not_allowed,
                        "414": {
                            "description": f"A query string over {MAX_QUERY_LENGTH} characters (application/json, "
                            "from the app). Behind deploy/'s nginx a request line over 4 KB is refused by nginx "
                            "itself (text/html; gunicorn alone: over 4,094 bytes, text/html too).",
                            "headers": cors,
                            "content": {**json_of("Errors"), "text/html": {"schema": string}},
                        },
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "getOpenApiDocument",
                    "summary": "This document",
                    "parameters": [conditional],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document, its enums from the current reference data.",
                            "headers": revalidation,
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "304": not_modified,
                        "405": method_not_allowed,
                    },
                }
            },
        },
        "components": {"schemas": shapes.schemas(plan_shapes.Plan, Errors)},
    }
