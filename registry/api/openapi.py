"""The OpenAPI 3.1 document of /api/v1: what each operation takes, and every status and problem type it answers.

tests/test_api_contract.py fuzzes the running API against this document for every role (schemathesis,
all checks), so the two cannot drift apart. To add a problem type: one line in PROBLEM_SLUGS, and its
status under the operations that answer it (a declaration refusal needs only its Refusal member and
REFUSAL_STATUS in routes.py: the document takes them from there). To add a member to a declaration
body: one line in DECLARATION_FIELDS; the API refuses members the document does not name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from registry.db import MAX_ID
from registry.declarations.idempotency import KEY_PATTERN, MAX_KEY_LENGTH
from registry.declarations.models import RECEIPT_PATTERN
from registry.declarations.services import Refusal
from registry.problems import PROBLEM_BASE, problem_type

MAX_BATCH = 1000

# Every problem type the API answers, with when. The refusals of a declaration (registry.declarations) come
# from Refusal itself.
PROBLEM_SLUGS: dict[str, str] = {
    "invalid-characters": "a control character (U+0000–U+001F but tab, newline, carriage return) anywhere "
                          "in the request",
    "unauthenticated": "no bearer token",
    "invalid-token": "a token that is expired, forged or for another audience",
    "insufficient-assurance": "the login's level of assurance is below the minimum (RFC 9470)",
    "identity-provider-unavailable": "the issuer's keys could not be fetched; see Retry-After",
    "forbidden": "the token's roles do not allow this operation, municipality, election or list",
    "not-found": "no such path (or a path parameter outside its pattern), or a municipality in no election",
    "method-not-allowed": "the path exists, the method does not; Allow names the methods",
    "request-too-large": "the body is larger than STEUNREGISTER_MAX_REQUEST_BYTES",
    "too-many-requests": "rate limit reached; see Retry-After",
    "service-unavailable": "the database is unreachable; nothing was recorded, see Retry-After",
    "busy": "every declaration slot of this process is taken; nothing was recorded, see Retry-After",
    "idempotency-key-missing": "no Idempotency-Key header",
    "idempotency-key-invalid": "an Idempotency-Key outside its pattern",
    "idempotency-key-reused": "this Idempotency-Key belongs to a different request",
    "invalid-request": "the body is not a JSON object (400) or a member is wrong (422, with a JSON pointer)",
    "signing-key-unavailable": "the dossier signing key (or the transparency log's head key) cannot be used",
    "unknown-receipt": "no declaration with this receipt code in this election (or it was destroyed, I 19)",
    "not-yet-in-log": "the declaration is recorded but not yet sealed into the log; ask again within a minute",
    "unknown-head": "no published tree head of that size, or first is larger than second",
    **{refusal.value: "declaration refused: " + refusal.name.lower().replace("_", " ") for refusal in Refusal},
}

TEXT = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]*$"  # registry.input_guard.FORBIDDEN refuses the others
ELECTION_ID = {"type": "string", "maxLength": 80, "examples": ["TK2025"],
               # kr:ElectionIdType of the Kiesraad's EML_NL schemas, which the import enforces; its \w is
               # written as ASCII here (JSON Schema regexes in Python tools have no \p{L})
               "pattern": "^(EP|EK|TK|GR|BC|GC|ER|PS|AB|NR|PR|LR|IR)2[0-9]{3}([0-9]{4})?(_[A-Za-z0-9_-]*)?$"}
MUNICIPALITY_CODE = {"type": "string", "pattern": "^GM[0-9]{4}$", "examples": ["GM0392"]}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}

# The members of a declaration body, in one place: the document shows them and the API refuses any other.
DECLARATION_FIELDS: dict[str, Any] = {
    "list": {**ID, "description": "the list id from GET …/lists"},
    "list_version": {
        "description": "the list version the voter was shown (H 4 lid 1): its `version` number or its `content_hash` "
                       "from GET …/lists. When the list has changed since, the answer is 409 list-changed with the "
                       "version that stands now (`list_version`, `list_version_hash`): show the voter that one. "
                       "Without it, the declaration supports the version that stands when it is recorded.",
        "oneOf": [ID, {"type": "string", "pattern": "^[0-9a-f]{64}$"}]},
    "bsn": {"type": "string", "pattern": "^[0-9 .-]{8,20}$",
            "description": "clerk or municipal system only: 9 digits (spaces, dots and hyphens are ignored) that "
                           "pass the 11-proof; never stored or answered"},
    "identity_document": {
        "type": "object", "required": ["type", "number"], "additionalProperties": False,
        "description": "clerk or municipal system only",
        "properties": {
            "type": {"type": "string", "enum": ["paspoort", "identiteitskaart", "rijbewijs", "verblijfsdocument"]},
            "number": {"type": "string", "pattern": "^[A-Za-z0-9 .-]{1,40}$",
                       "description": "checked for the shape of its type, never stored"},
            "country": {"type": "string", "pattern": "^[A-Za-z]{2}$", "default": "NL",
                        "description": "ISO 3166 code of the issuing state: NL, or, for a passport or identity card, "
                                       "a state of the EU, the EEA or Switzerland"}}},
    "municipality": {**MUNICIPALITY_CODE, "description": "clerk or municipal system, only when the token covers "
                                                         "several municipalities"},
}
BATCH_FIELDS: dict[str, Any] = {
    "id": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": TEXT,
           "description": "the client's id of this paper declaration; a repeat returns the first answer"},
    "signed_at": {"type": "string", "format": "date-time", "description": "when the voter signed, with a zone"},
}


def _problem_ref(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


CANDIDATE = {
    "type": "object",
    "required": ["position", "last_name"],
    "properties": {
        "position": {"type": "integer"}, "initials": {"type": "string"},
        "first_name": {"type": ["string", "null"]}, "prefix": {"type": ["string", "null"]},
        "last_name": {"type": "string"}, "gender": {"type": ["string", "null"]},
        "locality": {"type": ["string", "null"]},
    },
}

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details; type is " + PROBLEM_BASE + "<slug>: "
                       + "; ".join(f"{slug}: {meaning}" for slug, meaning in PROBLEM_SLUGS.items()),
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "enum": [problem_type(slug) for slug in PROBLEM_SLUGS]},
            "title": {"type": "string"}, "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "description": "what happened this time and what to do (Dutch)"},
            "pointer": {"type": "string", "description": "invalid-request: JSON Pointer to the member at fault"},
            "reason": {"type": "string", "description": "the token problems: which check failed"},
            "field": {"type": "string", "description": "invalid-document: type or number"},
        },
    },
    "Election": {
        "type": "object",
        "required": ["id", "name", "category", "election_date", "nomination_date", "window", "online"],
        "properties": {
            "id": {"type": "string", "examples": ["TK2025"]}, "name": {"type": "string"},
            "category": {"type": "string", "enum": ["TK", "EP", "PS", "AB", "GR", "ER"]},
            "election_date": {"type": "string", "format": "date"},
            "nomination_date": {"type": "string", "format": "date"},
            "window": {"type": "object", "required": ["opens_at", "closes_at"],
                       "properties": {"opens_at": {"type": "string", "format": "date-time"},
                                      "closes_at": {"type": "string", "format": "date-time"}}},
            "online": {"type": "object", "required": ["open"],
                       "properties": {"open": {"type": "boolean"}, "legal_basis": {"type": ["string", "null"]}}},
        },
    },
    "CandidateList": {
        "type": "object",
        "required": ["id", "number", "designation", "kieskringen", "versions"],
        "properties": {
            "id": {"type": "integer"}, "number": {"type": ["integer", "null"]},
            "designation": {"type": ["string", "null"], "description": "null: blanco lijst"},
            "exempt": {"type": "boolean", "description": "H 4 lid 8"},
            "kieskringen": {"type": "array", "items": {"type": "integer"}},
            "candidates": {"type": ["array", "null"], "items": CANDIDATE},
            "versions": {"type": "array", "items": {
                "type": "object", "required": ["version", "content_hash", "kieskringen", "candidates"],
                "properties": {"version": {"type": "integer"}, "content_hash": {"type": "string"},
                               "kieskringen": {"type": "array", "items": {"type": "integer"}},
                               "candidates": {"type": "array", "items": CANDIDATE}}}},
        },
    },
    "DeclarationRequest": {
        "type": "object",
        "description": "a voter sends only list; a clerk or municipal system also bsn and identity_document",
        "required": ["list"],
        "additionalProperties": False,
        "properties": DECLARATION_FIELDS,
    },
    "Declaration": {
        "type": "object",
        "required": ["id", "receipt_code", "election", "list", "kieskring", "municipality", "channel",
                     "list_version", "list_version_hash", "recorded_at"],
        "properties": {
            "id": {"type": "integer"}, "receipt_code": {"type": "string"}, "election": {"type": "string"},
            "list": {"type": "integer"}, "kieskring": {"type": "integer"}, "municipality": {"type": "string"},
            "channel": {"type": "string", "enum": ["counter", "online", "batch"]},
            "list_version": {"type": "integer", "description": "the version of the list this declaration supports"},
            "list_version_hash": {"type": "string", "description": "that version's content_hash"},
            "resent": {"type": "boolean", "description": "batch only: this paper declaration (same voter, list "
                                                         "version and signing time) was already recorded"},
            "recorded_at": {"type": "string", "format": "date-time"},
        },
    },
    "Json": {
        "description": "any JSON value whose strings and member names hold no control character",
        "anyOf": [{"type": ["null", "boolean", "number"]}, {"type": "string", "pattern": TEXT},
                  {"type": "array", "items": {"$ref": "#/components/schemas/Json"}},
                  {"type": "object", "propertyNames": {"pattern": TEXT},
                   "additionalProperties": {"$ref": "#/components/schemas/Json"}}],
    },
    "PaperDeclaration": {
        "type": "object", "required": ["id", "list", "bsn", "identity_document", "signed_at"],
        "additionalProperties": False, "properties": {**DECLARATION_FIELDS, **BATCH_FIELDS},
    },
    "BatchRequest": {
        "type": "object",
        "required": ["declarations"],
        "additionalProperties": False,
        "properties": {"declarations": {
            "type": "array", "minItems": 1, "maxItems": MAX_BATCH,
            "description": "the ids must differ (422 for the whole batch otherwise)",
            # Items are checked one by one: a malformed one gets its own 422 result and the rest go on, so
            # the document promises only what the whole batch is refused for (ids).
            "items": {"anyOf": [
                {"$ref": "#/components/schemas/PaperDeclaration"},
                {"type": "object", "required": ["id"], "properties": {"id": BATCH_FIELDS["id"]},
                 "propertyNames": {"pattern": TEXT}, "additionalProperties": {"$ref": "#/components/schemas/Json"},
                 "description": "an item that is not a PaperDeclaration: its result is a 422 invalid-request"}]}}},
    },
    "BatchResult": {
        "type": "object",
        "required": ["results", "recorded", "resent", "refused"],
        "properties": {
            "recorded": {"type": "integer"}, "refused": {"type": "integer"},
            "resent": {"type": "integer", "description": "items that were the same paper declaration as one "
                                                         "already recorded (status 200): one declaration, not two"},
            "results": {"type": "array", "items": {
                "type": "object", "required": ["id", "status", "result"],
                "properties": {"id": {"type": "string"}, "status": {"type": "integer"},
                               "result": {"oneOf": [{"$ref": "#/components/schemas/Declaration"},
                                                    {"$ref": "#/components/schemas/BatchItemProblem"}]}}}},
        },
    },
    "MyDeclaration": {
        "type": "object",
        "required": ["election", "list", "number", "designation", "kieskring", "municipality", "channel",
                     "recorded_at", "receipt_code", "status"],
        "properties": {
            "election": {"type": "string"}, "list": {"type": "integer"}, "number": {"type": ["integer", "null"]},
            "designation": {"type": ["string", "null"], "description": "null: blanco lijst"},
            "kieskring": {"type": "integer"}, "municipality": {"type": "string"},
            "channel": {"type": "string", "enum": ["counter", "online", "batch"]},
            "recorded_at": {"type": "string", "format": "date-time"},
            "receipt_code": {"type": "string", "description": "the receipt code (ontvangstcode) on the receipt"},
            "status": {"type": "string", "enum": ["registered", "void-multiple"],
                       "description": "void-multiple: the voter has more than one declaration in this election, "
                                      "so none counts (H 4 lid 5, I 2 lid 1 a)"},
        },
    },
    "Examination": {
        "type": "object", "required": ["election", "phase", "frozen", "totals", "lists"],
        "properties": {
            "election": {"type": "string"},
            "phase": {"type": "string", "enum": ["collecting", "examined", "decided", "final", "purged"]},
            "frozen": {"type": "boolean"}, "totals": {"type": "object"}, "sessions": {"type": "object"},
            "lists": {"type": "array", "items": {"type": "object"}}},
    },
    "Identity": {
        "type": "object",
        "required": ["kind", "subject", "acr", "roles", "role_names", "municipalities", "elections", "agent_lists"],
        "properties": {
            "kind": {"type": "string", "enum": ["voter", "staff", "system"]}, "subject": {"type": "string"},
            "acr": {"type": "string"}, "roles": {"type": "array", "items": {"type": "string"}},
            "role_names": {"type": "array", "items": {
                "type": "string", "enum": ["voter", "clerk", "csb", "party_agent", "system"]}},
            "organisation": {"type": ["string", "null"]}, "employee_id": {"type": ["string", "null"]},
            "display_name": {"type": "string"},
            "municipalities": {"type": "array", "items": MUNICIPALITY_CODE},
            "elections": {"type": "array", "items": {"type": "string"}},
            "agent_lists": {"type": "array", "items": {"type": "string"}}},
    },
    "ListProgress": {
        "type": "object",
        "required": ["election", "list", "number", "designation", "exempt", "refreshed_at", "kieskringen", "versions"],
        "properties": {
            "election": {"type": "string"}, "list": {"type": "integer"}, "number": {"type": ["integer", "null"]},
            "designation": {"type": ["string", "null"]}, "exempt": {"type": "boolean", "description": "H 4 lid 8"},
            "exempt_basis": {"type": ["string", "null"]},
            "refreshed_at": {"type": ["string", "null"], "format": "date-time",
                             "description": "when the counts were computed (at most PROGRESS_MAX_AGE seconds old)"},
            "kieskringen": {"type": "array", "items": {
                "type": "object",
                "required": ["kieskring", "name", "version", "declarations", "valid", "void_multiple", "required",
                             "status", "shortage", "earlier_versions"],
                "properties": {
                    "kieskring": {"type": "integer"}, "name": {"type": "string"},
                    "version": {"type": "integer", "description": "the version voters sign there now"},
                    "declarations": {"type": "integer"}, "valid": {"type": "integer"},
                    "void_multiple": {"type": "integer"},
                    "required": {"type": ["integer", "null"], "description": "null: exempt, or GR without seats"},
                    "status": {"type": "string", "enum": ["meets", "short", "exempt", "unknown"]},
                    "shortage": {"type": "integer"},
                    "earlier_versions": {"type": "integer",
                                         "description": "declarations for versions that no longer stand here"}}}},
            "versions": {"type": "array", "items": {
                "type": "object",
                "required": ["version", "created_at", "candidates", "declarations", "valid", "kieskringen"],
                "properties": {
                    "version": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"},
                    "candidates": {"type": "integer"}, "declarations": {"type": "integer"},
                    "valid": {"type": "integer"},
                    "kieskringen": {"type": "array", "items": {"type": "integer"}}}}},
        },
    },
}

# The transparency log (registry/transparency, docs/transparency.md): public, counts and hashes only.
HEX32 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
TREE_HEAD = {
    "type": "object", "required": ["election", "tree_size", "root_hash", "timestamp", "kind", "signature", "key_id"],
    "description": "Ed25519 over the six lines steunregister-log-head/1, election, tree_size, root_hash, timestamp, "
                   "kind (each ending in a newline)",
    "properties": {"election": {"type": "string"}, "tree_size": {"type": "integer", "minimum": 0},
                   "root_hash": HEX32, "timestamp": {"type": "string"},
                   "kind": {"type": "string", "enum": ["periodic", "window-close", "i1", "i4"]},
                   "signature": {"type": "string", "description": "base64"}, "key_id": HEX32}}
AUDIT = {"type": ["object", "null"], "required": ["head", "audit_path"],
         "properties": {"head": TREE_HEAD, "audit_path": {"type": "array", "items": HEX32}}}
SCHEMAS.update({
    "LogHeads": {"type": "object", "required": ["election", "public_key", "key_id", "from", "total", "next", "heads"],
                 "properties": {"election": {"type": "string"}, "public_key": {"type": "string"}, "key_id": HEX32,
                                "from": {"type": "integer", "minimum": 0,
                                         "description": "the position of the first head of this page (0: the first)"},
                                "total": {"type": "integer", "minimum": 0, "description": "heads signed so far"},
                                "next": {"type": ["integer", "null"],
                                         "description": "from of the next page; null on the last"},
                                "heads": {"type": "array", "items": TREE_HEAD, "maxItems": 1000,
                                          "description": "oldest first, at most 1,000"}}},
    "ConsistencyProof": {"type": "object", "required": ["election", "first", "second", "proof"],
                         "properties": {"election": {"type": "string"}, "first": {"type": "integer"},
                                        "second": {"type": "integer"}, "proof": {"type": "array", "items": HEX32}}},
    "InclusionProof": {
        "type": "object", "required": ["election", "leaf_index", "leaf_hash", "record", "latest", "decision"],
        "properties": {"election": {"type": "string"}, "leaf_index": {"type": "integer"}, "leaf_hash": HEX32,
                       "record": {"type": "object", "description": "the leaf's canonical record, salt included"},
                       "list_label": {"type": ["string", "null"]},
                       "latest": {**AUDIT, "description": "against the latest signed head"},
                       "decision": {**AUDIT, "description": "against the I 4 head, once the CSB decided"}}},
})
SIZE_PARAM = {"in": "query", "required": True, "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
              "description": "the tree_size of a published head"}


# --- parameters, security, problem answers -------------------------------------------------------------

ELECTION_PARAM = {"name": "election", "in": "path", "required": True, "schema": ELECTION_ID,
                  "description": "EML ElectionIdentifier, e.g. TK2025"}
LIST_PARAM = {"name": "list", "in": "path", "required": True, "schema": ID,
              "description": "the list id from GET …/lists"}
CODE_PARAM = {"name": "code", "in": "path", "required": True, "schema": MUNICIPALITY_CODE,
              "description": "CBS code, e.g. GM0363"}
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": True,
               "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN},
               "description": "unique per declaration, e.g. a UUID: a replay with the same key and body returns the "
                             "first answer (Idempotent-Replayed: true), never a second declaration"}

# One bearer scheme per role, so each operation says who may call it. All take an access token of the
# OIDC issuer with audience OIDC_API_AUDIENCE; the roles claim (or the login kind) decides the role.
ROLES: dict[str, str] = {
    "municipalSystem": "a municipal system: client_credentials token of client gemeente-<GM code>, roles "
                       "clerk:<GM code>",
    "clerk": "a counter official (eHerkenning): roles clerk:<GM code>",
    "voter": "a voter (DigiD, level substantieel or higher)",
    "partyAgent": "a party's agent (eHerkenning): roles agent:<list id>",
    "csb": "a member of the centraal stembureau (eHerkenning): roles csb:<election>",
}
SECURITY_SCHEMES = {name: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": meaning}
                    for name, meaning in ROLES.items()}

Problems = dict[int, list[str]]
EVERYWHERE: Problems = {400: ["invalid-characters"]}  # registry.input_guard, before any view
SIGNED_IN: Problems = {401: ["unauthenticated", "invalid-token", "insufficient-assurance"],
                       503: ["identity-provider-unavailable", "service-unavailable"]}
ROLE_BOUND: Problems = {403: ["forbidden"]}
PATH_PARAMS: Problems = {404: ["not-found"]}  # a value outside its pattern matches no route
RATE_LIMITED: Problems = {429: ["too-many-requests"]}
WITH_BODY: Problems = {400: ["invalid-request"], 413: ["request-too-large"], 422: ["invalid-request"],
                       503: ["busy"]}
HEADERS = {
    401: {"WWW-Authenticate": {"required": True, "schema": {"type": "string"},
                               "description": 'Bearer realm="steunregister", with error= when a token was sent'}},
    429: {"Retry-After": {"required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"}}},
    503: {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"},
                          "description": "seconds; absent for signing-key-unavailable"}},
}


def _merge(*tables: Problems) -> Problems:
    merged: Problems = {}
    for table in tables:
        for status, slugs in table.items():
            known = merged.setdefault(status, [])
            known.extend(slug for slug in slugs if slug not in known)
    return merged


def _problem_schema(slugs: list[str], status: int | None = None) -> dict[str, Any]:
    narrowed: dict[str, Any] = {"type": {"enum": [problem_type(slug) for slug in slugs]}}
    if status is not None:
        narrowed["status"] = {"const": status}
    return {"allOf": [{"$ref": "#/components/schemas/Problem"}], "properties": narrowed}


def _operation(operation_id: str, summary: str, roles: list[str] | None, success: dict[str, dict[str, Any]],
               problems: Problems, *, any_identity: bool = False, **extra: Any) -> dict[str, Any]:
    """An operation with its success answers and, per status, the problem types it may answer. ``roles``:
    None for a public operation; ``any_identity``: every valid token passes, so never 403."""
    tables = [EVERYWHERE, problems]
    if roles is not None:
        tables[1:1] = [SIGNED_IN, {} if any_identity else ROLE_BOUND]
    if any(param["in"] == "path" for param in extra.get("parameters", [])):
        tables.append(PATH_PARAMS)
    responses: dict[str, Any] = dict(success)
    for status, slugs in sorted(_merge(*tables).items()):
        responses[str(status)] = {
            "description": ", ".join(slugs),
            "content": {"application/problem+json": {"schema": _problem_schema(slugs, status)}},
            **({"headers": HEADERS[status]} if status in HEADERS else {}),
        }
    security = [] if roles is None else [{role: []} for role in roles]
    return {"operationId": operation_id, "summary": summary, "security": security, **extra,
            "responses": responses}


def _body(ref: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": ref}}}}


def _refusals(refusal_status: Mapping[str, int]) -> Problems:
    table: Problems = {}
    for slug, status in refusal_status.items():
        table.setdefault(status, []).append(slug)
    return table


def openapi_document(refusal_status: Mapping[str, int]) -> dict[str, Any]:
    """The document; ``refusal_status`` maps each declaration refusal's slug to its HTTP status."""
    refusals = _refusals(refusal_status)
    # What a single declaration can answer besides 201; a batch item's result is one of these too.
    declaration_problems = _merge(refusals, {
        400: ["idempotency-key-missing", "idempotency-key-invalid"],
        422: ["idempotency-key-reused"], 503: ["service-unavailable"]})
    batch_item = {slug for slugs in declaration_problems.values() for slug in slugs} - {
        "idempotency-key-missing", "idempotency-key-invalid"} | {"invalid-request"}
    schemas = {**SCHEMAS, "BatchItemProblem": _problem_schema(sorted(batch_item))}
    every_role = list(ROLES)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Steunregister API", "version": "1",
                 "description": "Ondersteuningsverklaringen (Kieswet art. H 4). Errors are RFC 9457 "
                                "problem+json (application/problem+json); each operation lists the problem "
                                "types it can answer per status. A 405 carries Allow."},
        "servers": [{"url": "/api/v1"}],
        "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
        "paths": {
            "/elections": {"get": _operation(
                "listElections", "Elections in the registry", every_role,
                {"200": {**_json({"type": "array", "items": {"$ref": "#/components/schemas/Election"}},
                                 "elections"),
                         "links": {"lists": {"operationId": "listLists",
                                             "parameters": {"election": "$response.body#/0/id"}}}}},
                {})},
            "/elections/{election}/lists": {"get": _operation(
                "listLists", "Candidate lists with kieskringen and candidates", every_role,
                {"200": {**_json({"type": "array", "items": {"$ref": "#/components/schemas/CandidateList"}},
                                 "lists"),
                         "links": {
                             "declare": {"operationId": "createDeclaration",
                                         "description": "a voter declares for this list (staff add bsn and "
                                                        "identity_document)",
                                         "parameters": {"election": "$request.path.election"},
                                         "requestBody": {"list": "$response.body#/0/id"}},
                             "progress": {"operationId": "listProgress",
                                          "parameters": {"election": "$request.path.election",
                                                         "list": "$response.body#/0/id"}},
                             "dossier": {"operationId": "dossier",
                                         "parameters": {"election": "$request.path.election",
                                                        "list": "$response.body#/0/id"}}}}},
                {404: ["unknown-election"]}, parameters=[ELECTION_PARAM])},
            "/elections/{election}/declarations": {"post": _operation(
                "createDeclaration",
                "Record one declaration (clerk or municipal system: BSN and document; voter: only the list)",
                ["municipalSystem", "clerk", "voter"],
                {"201": {**_json({"$ref": "#/components/schemas/Declaration"}, "recorded"),
                         "headers": {"Idempotent-Replayed": {"schema": {"const": "true"},
                                                             "description": "this is the first answer again"}},
                         "links": {"mine": {"operationId": "myDeclarations",
                                            "description": "a voter finds it among their own declarations"},
                                   "progress": {"operationId": "listProgress",
                                                "parameters": {"election": "$response.body#/election",
                                                               "list": "$response.body#/list"}}}}},
                _merge(WITH_BODY, declaration_problems),
                parameters=[ELECTION_PARAM, IDEMPOTENCY],
                requestBody=_body("#/components/schemas/DeclarationRequest"))},
            "/elections/{election}/declarations/batch": {"post": _operation(
                "createDeclarationBatch",
                "Up to 1,000 paper declarations, each with its own id and signing time; idempotent per id",
                ["municipalSystem", "clerk"],
                {"200": _json({"$ref": "#/components/schemas/BatchResult"}, "per-item outcomes")},
                _merge(WITH_BODY, {404: ["unknown-election"]}), parameters=[ELECTION_PARAM],
                requestBody=_body("#/components/schemas/BatchRequest"))},
            "/me/declarations": {"get": _operation(
                "myDeclarations", "The calling voter's own declarations in every election, with their status",
                ["voter"],
                {"200": _json({"type": "array", "items": {"$ref": "#/components/schemas/MyDeclaration"}},
                              "the voter's declarations (usually none or one per election)")},
                RATE_LIMITED)},
            "/elections/{election}/lists/{list}/progress": {"get": _operation(
                "listProgress",
                "Valid declarations per kieskring against the minimum (party agent of the list, or the CSB of the "
                "election); counts only",
                ["partyAgent", "csb"],
                {"200": _json({"$ref": "#/components/schemas/ListProgress"}, "progress")},
                _merge(RATE_LIMITED, {404: ["unknown-election", "unknown-list"]}),
                parameters=[ELECTION_PARAM, LIST_PARAM])},
            "/elections/{election}/examination": {"get": _operation(
                "examination",
                "The CSB's examination: per list per kieskring required, valid, void (more than one declaration / "
                "other reason) and the status; after the I 4 decision the frozen numbers with the decision per "
                "kieskring (CSB of the election only; counts, never names)",
                ["csb"],
                {"200": _json({"$ref": "#/components/schemas/Examination"}, "examination")},
                {404: ["unknown-election"]}, parameters=[ELECTION_PARAM])},
            "/elections/{election}/lists/{list}/dossier": {"get": _operation(
                "dossier",
                "The signed dossier of one list (steunregister-dossier/1, see the README): the declarations with "
                "names, the manifest, the cover sheet, Ed25519 signatures and the registry's public key (CSB of the "
                "election only; each download is audited)",
                ["csb"],
                {"200": {"description": "the ZIP; the manifest's SHA-256 is the ETag, its fingerprint (16 groups of "
                                        "4 hex digits) in X-Dossier-Fingerprint",
                         "headers": {"X-Dossier-Fingerprint": {"required": True, "schema": {
                             "type": "string", "pattern": "^[0-9a-f]{4}( [0-9a-f]{4}){15}$"}}},
                         "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}},
                {404: ["unknown-election", "unknown-list"], 503: ["signing-key-unavailable"]},
                parameters=[ELECTION_PARAM, LIST_PARAM])},
            "/elections/{election}/log/heads": {"get": _operation(
                "logHeads", "The signed tree heads of the election's transparency log, a page of at most 1,000 from "
                            "position from, and the head key (public)",
                None, {"200": _json({"$ref": "#/components/schemas/LogHeads"}, "heads")},
                {404: ["unknown-election"], 422: ["invalid-request"], 503: ["signing-key-unavailable"]},
                parameters=[ELECTION_PARAM, {"name": "from", "in": "query", "required": False,
                                             "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID,
                                                        "default": 0},
                                             "description": "the position of the first head (next of the previous "
                                                            "page)"}])},
            "/elections/{election}/log/consistency": {"get": _operation(
                "logConsistency", "Consistency proof (RFC 9162 §2.1.4) between two published heads (public)", None,
                {"200": _json({"$ref": "#/components/schemas/ConsistencyProof"}, "proof")},
                {404: ["unknown-election", "unknown-head"], 422: ["invalid-request"]},
                parameters=[ELECTION_PARAM, {"name": "first", **SIZE_PARAM}, {"name": "second", **SIZE_PARAM}])},
            "/elections/{election}/log/proof": {"get": _operation(
                "logProof", "The voter's inclusion proof (RFC 9162 §2.1.3), found by the receipt code (public, "
                            "rate-limited)", None,
                {"200": _json({"$ref": "#/components/schemas/InclusionProof"}, "proof")},
                _merge(RATE_LIMITED, {404: ["unknown-election", "unknown-receipt", "not-yet-in-log"],
                                      422: ["invalid-request"], 503: ["signing-key-unavailable"]}),
                parameters=[ELECTION_PARAM, {"name": "receipt", "in": "query", "required": True,
                                             "schema": {"type": "string", "pattern": RECEIPT_PATTERN},
                                             "description": "the receipt code, e.g. ABCD-EFGH-JKLM"}])},
            "/whoami": {"get": _operation(
                "whoami", "The identity behind the bearer token (never the BSN)", every_role,
                {"200": {**_json({"$ref": "#/components/schemas/Identity"}, "identity"),
                         "links": {"municipality": {"operationId": "municipality",
                                                    "parameters": {"code": "$response.body#/municipalities/0"}}}}},
                {}, any_identity=True)},
            "/municipalities/{code}": {"get": _operation(
                "municipality", "A municipality the token may act for, and its elections",
                ["municipalSystem", "clerk"],
                {"200": _json({"type": "object", "required": ["code", "name", "elections"],
                               "properties": {"code": MUNICIPALITY_CODE, "name": {"type": "string"},
                                              "elections": {"type": "array", "items": {"type": "string"}}}},
                              "municipality")},
                {}, parameters=[CODE_PARAM])},
            "/openapi.json": {"get": _operation(
                "openapi", "This document", None,
                {"200": _json({"type": "object", "required": ["openapi", "paths"]}, "OpenAPI 3.1")}, {})},
        },
    }
