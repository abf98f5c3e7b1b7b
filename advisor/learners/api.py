"""The plan as JSON, and the OpenAPI document that describes it."""

import hashlib
import json
from dataclasses import dataclass
from functools import wraps
from typing import Annotated

from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import condition, require_safe

from advisor.learners.forms import MAX_CREDENTIALS, MAX_YEARS, PlanQueryForm
from advisor.pagecache.front import share
from advisor.pagecache.store import release
from pathways import plan_shapes, presenter, rules, shapes
from pathways.reference import load_reference
from pathways.shapes import Doc

# Clients may reuse a plan for a minute without asking; after that the ETag (reference-data
# version + normalised query) makes the check a cheap 304.
CACHE_CONTROL = "public, max-age=60"


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
    return f"v{form.reference.version}-{digest}"


def _cacheable_plans(view):
    """Cache-Control on a plan and on its 304 alike (the condition decorator answers a 304 without the view)."""

    @wraps(view)
    def wrapper(request):
        response = view(request)
        if response.status_code in (200, 304):
            response["Cache-Control"] = CACHE_CONTROL
        return response

    return wrapper


# Read-only JSON: without csrf_exempt, CsrfViewMiddleware answers any other method (POST, QUERY...)
# with an HTML 403 before require_safe can give the documented 405 with an Allow header.
@csrf_exempt
@require_safe
@_cacheable_plans
@condition(etag_func=_plan_etag)
def plan_json(request):
    form = _plan_query(request)
    if not form.is_valid():
        response = JsonResponse(shapes.as_json(Errors(errors=form.errors_as_dict())), status=400)
        response["Cache-Control"] = "no-cache"
        return response
    # Shareable: the page cache in front of Django answers the same URL again.
    return share(HttpResponse(plan_body(form), content_type="application/json"), form.canonical_query())


@csrf_exempt
@require_safe
def openapi(request):
    document = openapi_document(request.build_absolute_uri(reverse("advisor:api-plan")))
    response = JsonResponse(document, json_dumps_params={"indent": 2})
    response["Cache-Control"] = CACHE_CONTROL
    return response


# --- The OpenAPI 3.1 document ------------------------------------------------------------------
# Its schemas are derived from the shapes the responses are built from (pathways.shapes): Plan and Errors.


def openapi_document(server_plan_url: str = "/api/plan/") -> dict:
    country = {"type": "string", "pattern": "^[A-Za-z]{2}$"}
    parameters = [
        {
            "name": "origin",
            "in": "query",
            "required": True,
            "description": 'Country the learner trained in (ISO 3166-1 alpha-2, any case), or "none".',
            "schema": {"oneOf": [country, {"type": "string", "pattern": "^[Nn][Oo][Nn][Ee]$"}]},
        },
        {
            "name": "credential",
            "in": "query",
            "required": False,
            "description": f"A credential code the learner holds, any case; repeatable (at most {MAX_CREDENTIALS}).",
            "schema": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_CREDENTIALS},
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
                "is for the settings those classifications cover, and its `setting` field says which."
            ),
            "schema": {"type": "string", "enum": list(rules.SETTINGS), "default": "both"},
        },
        {
            "name": "years",
            "in": "query",
            "required": False,
            "description": "Whole years of coding experience.",
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_YEARS},
        },
        {
            "name": "destination",
            "in": "query",
            "required": True,
            "description": "Country the learner wants to work in (ISO 3166-1 alpha-2, any case).",
            "schema": country,
        },
    ]
    json_of = lambda name: {"application/json": {"schema": {"$ref": shapes.REF + name}}}  # noqa: E731
    string = {"type": "string"}
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Coding Pathways plan API",
            "version": "1.0.0",
            "description": "A retraining plan for a clinical or medical coder moving between countries.",
        },
        "servers": [{"url": server_plan_url.removesuffix("/api/plan/") or "/"}],
        "paths": {
            "/api/plan/": {
                "get": {
                    "operationId": "getPlan",
                    "summary": "The retraining plan for one learner profile",
                    "description": "A parameter given twice (other than credential) or any non-UTF-8 byte is a 400.",
                    "parameters": parameters,
                    "responses": {
                        "200": {
                            "description": "The plan.",
                            "headers": {
                                "ETag": {"schema": string, "description": "Reference-data version + query."},
                                "Cache-Control": {"schema": string},
                            },
                            "content": json_of("Plan"),
                        },
                        "304": {"description": "Not modified (If-None-Match matched the ETag)."},
                        "400": {
                            "description": "Bad parameters, one message list per field.",
                            "content": json_of("Errors"),
                        },
                    },
                }
            }
        },
        "components": {"schemas": shapes.schemas(plan_shapes.Plan, Errors)},
    }
