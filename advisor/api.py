"""The plan as JSON, and the OpenAPI document that describes it."""

import hashlib
import json
from functools import wraps

from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import condition, require_safe

from advisor import cache as page_cache
from advisor.forms import MAX_CREDENTIALS, MAX_YEARS, PlanQueryForm
from pathways import presenter, rules
from pathways.reference import load_reference

# Clients may reuse a plan for a minute without asking; after that the ETag (reference-data
# version + normalised query) makes the check a cheap 304.
CACHE_CONTROL = "public, max-age=60"


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
    digest = hashlib.blake2b(form.canonical_query().encode(), digest_size=12).hexdigest()
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
        response = JsonResponse({"errors": form.errors_as_dict()}, status=400)
        response["Cache-Control"] = "no-cache"
        return response
    # Shareable: advisor.cache.PageCache answers the same URL again without Django.
    return page_cache.share(HttpResponse(plan_body(form), content_type="application/json"))


@csrf_exempt
@require_safe
def openapi(request):
    document = openapi_document(request.build_absolute_uri(reverse("advisor:api-plan")))
    response = JsonResponse(document, json_dumps_params={"indent": 2})
    response["Cache-Control"] = CACHE_CONTROL
    return response


# --- The OpenAPI 3.1 document ------------------------------------------------------------------


def _object(properties: dict, required: list[str] | None = None) -> dict:
    """A closed object: every listed property present, nothing else."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


_STRING = {"type": "string"}
_NULLABLE_STRING = {"type": ["string", "null"]}
_MONTHS = {
    "description": "[min, max] whole months, rounded outwards, only where a source gives a figure; max is null "
    "where the source gives only a minimum; null means no published figure.",
    "oneOf": [
        {
            "type": "array",
            "prefixItems": [{"type": "integer", "minimum": 0}, {"type": ["integer", "null"], "minimum": 0}],
            "minItems": 2,
            "maxItems": 2,
        },
        {"type": "null"},
    ],
}
_DURATION = {
    "description": 'The figure as its source gives it; max null = only a minimum ("at least"). '
    "null = no published figure.",
    "oneOf": [
        _object(
            {
                "min": {"type": "integer", "minimum": 0},
                "max": {"type": ["integer", "null"], "minimum": 0},
                "unit": {"type": "string", "enum": ["day", "week", "month", "year"]},
            }
        ),
        {"type": "null"},
    ],
}
_GAP = {"type": "string", "enum": list(rules.GAP_ORDER)}
_REF = "#/components/schemas/"


def _schemas() -> dict:
    provenance = _object(
        {
            "kind": {"type": "string", "enum": ["seed", "official", "third-party", "inferred"]},
            "title": _STRING,
            "url": _STRING,
            "detail": {"type": "string", "maxLength": 0, "description": "Always empty: kept for compatibility."},
            "last_checked": {"type": "string", "description": "ISO date, or empty for derived items."},
            "publisher": _STRING,
        }
    )
    prov = {"$ref": _REF + "Provenance"}
    note = _object({"code": _STRING, "text": _STRING, "provenance": prov})
    return {
        "Provenance": provenance,
        "Note": note,
        "Plan": _object(
            {
                "origin": {
                    "oneOf": [_object({"code": _STRING, "name": _STRING}), {"type": "null"}],
                    "description": "null for someone not trained yet.",
                },
                "destination": _object(
                    {
                        "code": _STRING,
                        "name": _STRING,
                        "profession": _STRING,
                        "grouper": _STRING,
                        "governing_body": _STRING,
                        "coding_scope": _STRING,
                    }
                ),
                "setting": {"type": "string", "enum": list(rules.SETTINGS)},
                "years": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_YEARS},
                "held_credentials": {"type": "array", "items": _STRING},
                "difficulty": _object(
                    {
                        "rank": {"type": "integer", "minimum": 0, "maximum": 4, "description": "0 = no move needed"},
                        "label": _STRING,
                    }
                ),
                "headline": _STRING,
                "summary": _STRING,
                "move": {"type": "string", "description": "The move in words, e.g. 'Australia to United Kingdom'."},
                "route": {
                    "oneOf": [
                        _object(
                            {
                                "origin": _NULLABLE_STRING,
                                "destination": _STRING,
                                "headline": _STRING,
                                "summary": _STRING,
                                "employer_expectation": _STRING,
                                "local_conventions": _STRING,
                                "provenance": prov,
                            }
                        ),
                        {"type": "null"},
                    ],
                    "description": "The route row the plan follows; null when no move is needed.",
                },
                "transferable_skills": {"type": "array", "items": _STRING},
                "transferable_skill_details": {"type": "array", "items": note},
                "classifications": {
                    "type": "array",
                    "items": _object(
                        {
                            "code": _STRING,
                            "name": _STRING,
                            "kind": _STRING,
                            "edition": _STRING,
                            "gap": _GAP,
                            "gap_label": _STRING,
                            "known_from": _NULLABLE_STRING,
                            "note": _STRING,
                            "provenance": prov,
                        }
                    ),
                },
                "other_gaps": {
                    "type": "array",
                    "description": "Gaps that are not one classification: a change of setting, a route's extra gap.",
                    "items": _object(
                        {
                            "code": _STRING,
                            "title": _STRING,
                            "gap": _GAP,
                            "gap_label": _STRING,
                            "note": _STRING,
                            "provenance": prov,
                        }
                    ),
                },
                "credentials": {
                    "type": "array",
                    "description": "What employers expect: the same step = alternatives, a higher step comes after.",
                    "items": _object(
                        {
                            "code": _STRING,
                            "name": _STRING,
                            "awarded_by": _STRING,
                            "kind": _STRING,
                            "held": {"type": "boolean"},
                            "note": _STRING,
                            "step": {"type": "integer", "minimum": 0},
                            "setting": {"type": "string", "enum": ["inpatient", "outpatient", "all"]},
                            "months": _MONTHS,
                            "duration": _DURATION,
                            "within": {
                                "type": ["string", "null"],
                                "description": "Taken during this other credential's period.",
                            },
                            "duration_note": _STRING,
                            "prerequisites": _STRING,
                            "requires_employment": {"type": "boolean"},
                            "keeping_current": _STRING,
                            "provenance": prov,
                        }
                    ),
                },
                "steps": {
                    "type": "array",
                    "description": "What the learner does, in order. A credential step lists what it covers; "
                    "'learn' is self-study of what no course in the plan covers.",
                    "items": _object(
                        {
                            "number": {"type": "integer", "minimum": 1},
                            "kind": {
                                "type": "string",
                                "enum": ["learn", "employment", "credential", "progression", "keep-current"],
                            },
                            "title": _STRING,
                            "detail": _STRING,
                            "options": {
                                "type": "array",
                                "description": "Alternatives: take one of them.",
                                "items": _object(
                                    {"code": _STRING, "name": _STRING, "awarded_by": _STRING, "note": _STRING}
                                ),
                            },
                            "months": _MONTHS,
                            "duration": _DURATION,
                            "within": {
                                "type": ["string", "null"],
                                "description": "A credential of this plan whose period this step is taken within: "
                                "its time is not added to the total.",
                            },
                            "time_text": {"type": "string", "description": "The step's time in words, or empty."},
                            "credentials": {"type": "array", "items": _STRING},
                            "covers": {
                                "type": "array",
                                "items": _object({"code": _STRING, "name": _STRING, "gap": _GAP, "gap_label": _STRING}),
                            },
                            "provenance": prov,
                        }
                    ),
                },
                "total_months": _MONTHS,
                "total_duration": _DURATION,
                "total_is_partial": {
                    "type": "boolean",
                    "description": "Some steps have no published figure and are not counted.",
                },
                "time_text": {"type": "string", "description": "The expected time in words."},
                "time_note": {"type": "string", "description": "Which steps the time leaves out, or empty."},
                "first_step": _STRING,
                "sources": {
                    "type": "array",
                    "description": "Every source the plan cites, numbered.",
                    "items": _object(
                        {
                            "number": {"type": "integer", "minimum": 1},
                            "kind": _STRING,
                            "kind_label": _STRING,
                            "publisher": _STRING,
                            "title": _STRING,
                            "url": _STRING,
                            "last_checked": _STRING,
                        }
                    ),
                },
                "warnings": {"type": "array", "items": note},
                "notes": {"type": "array", "items": _STRING},
                "note_details": {"type": "array", "items": note},
                "ranking": {
                    "type": "array",
                    "description": "Every destination from this origin, easiest first.",
                    "items": _object(
                        {
                            "code": _STRING,
                            "name": _STRING,
                            "rank": {"type": "integer", "minimum": 0, "maximum": 4},
                            "label": _STRING,
                            "new_gaps": {"type": "integer", "minimum": 0},
                            "major_gaps": {"type": "integer", "minimum": 0},
                            "credential_months": _MONTHS,
                            "credential_months_partial": {"type": "boolean"},
                            "headline": _STRING,
                            "reasons": _STRING,
                        }
                    ),
                },
                "reference_version": {"type": "integer", "minimum": 0},
            }
        ),
        "Errors": _object(
            {
                "errors": {
                    "type": "object",
                    "description": 'One list of messages per parameter; "__all__" for the query as a whole.',
                    "propertyNames": {"enum": ["origin", "credential", "setting", "years", "destination", "__all__"]},
                    "additionalProperties": {"type": "array", "items": _STRING, "minItems": 1},
                    "minProperties": 1,
                }
            }
        ),
    }


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
            "description": 'Where the learner codes; default "both".',
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
    json_of = lambda name: {"application/json": {"schema": {"$ref": _REF + name}}}  # noqa: E731
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
                                "ETag": {"schema": _STRING, "description": "Reference-data version + query."},
                                "Cache-Control": {"schema": _STRING},
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
        "components": {"schemas": _schemas()},
    }
