"""The plan as JSON, and the OpenAPI document that describes it."""

import hashlib
import json
import threading
from collections import OrderedDict

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from advisor import cache as page_cache
from advisor.forms import MAX_CREDENTIALS, MAX_YEARS, PlanQueryForm
from pathways import rules
from pathways.reference import load_reference

# Clients may reuse a plan for a minute without asking; after that the ETag (reference-data
# version + normalised query) makes the check a cheap 304.
CACHE_CONTROL = "public, max-age=60"
# (reference version, normalised query) -> (etag, body), least recently used first, at most
# PLAN_API_CACHE_ENTRIES of them, for the Reference they were built from: emptied whenever
# load_reference() hands out a new one. The page cache answers repeats of the same URL before this
# view; this one serves other spellings of the same query and conditional requests.
_responses: OrderedDict[tuple[int, str], tuple[str, bytes]] = OrderedDict()
_responses_owner: list[rules.Reference | None] = [None]
_lock = threading.Lock()


def plan_body(form: PlanQueryForm) -> tuple[str, bytes]:
    """The ETag and JSON body of a valid query, built once per reference-data version."""
    reference = form.reference
    key = (reference.version, form.canonical_query())
    with _lock:
        if _responses_owner[0] is not reference:
            _responses.clear()
            _responses_owner[0] = reference
        hit = _responses.get(key)
        if hit is not None:
            _responses.move_to_end(key)
            return hit
    plan = rules.build_plan(form.profile, reference)
    body = json.dumps(plan.as_dict(), ensure_ascii=False, separators=(",", ":")).encode()
    digest = hashlib.blake2b(key[1].encode(), digest_size=12).hexdigest()
    hit = (f'"v{reference.version}-{digest}"', body)
    with _lock:
        if _responses_owner[0] is reference:
            _responses[key] = hit
            while len(_responses) > settings.PLAN_API_CACHE_ENTRIES:
                _responses.popitem(last=False)
    return hit


def _etag_matches(header: str, etag: str) -> bool:
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in candidates or etag in candidates


# Read-only JSON: without csrf_exempt, CsrfViewMiddleware answers any other method (POST, QUERY...)
# with an HTML 403 before require_safe can give the documented 405 with an Allow header.
@csrf_exempt
@require_safe
def plan_json(request):
    form = PlanQueryForm.from_request(request, reference=load_reference())
    if not form.is_valid():
        response = JsonResponse({"errors": form.errors_as_dict()}, status=400)
        response["Cache-Control"] = "no-cache"
        return response
    etag, body = plan_body(form)
    if _etag_matches(request.headers.get("If-None-Match", ""), etag):
        response = HttpResponseNotModified()
    else:
        # Shareable: advisor.cache.PageCacheMiddleware answers the same URL again without this view.
        response = page_cache.share(HttpResponse(body, content_type="application/json"))
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    return response


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
    "description": "[min, max] months, only where a source gives a figure; null means time varies.",
    "oneOf": [
        {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2, "maxItems": 2},
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
            "detail": _STRING,
            "last_checked": {"type": "string", "description": "ISO date, or empty for derived items."},
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
                            "duration_note": _STRING,
                            "prerequisites": _STRING,
                            "requires_employment": {"type": "boolean"},
                            "provenance": prov,
                        }
                    ),
                },
                "steps": {
                    "type": "array",
                    "items": _object(
                        {
                            "kind": {
                                "type": "string",
                                "enum": ["learn", "employment", "credential", "progression", "keep-current"],
                            },
                            "title": _STRING,
                            "detail": _STRING,
                            "months": _MONTHS,
                            "provenance": prov,
                        }
                    ),
                },
                "total_months": _MONTHS,
                "total_is_partial": {"type": "boolean", "description": "Some steps have no published duration."},
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
