"""The OpenAPI 3.1 document of /api/v1; a test checks it against the routes and real responses."""

from __future__ import annotations

from typing import Any

from registry.problems import PROBLEM_BASE

SLUGS = [
    "already-declared", "invalid-bsn", "invalid-document", "unknown-list", "unknown-election", "not-eligible",
    "not-registered-here", "wrong-kieskring", "window-closed", "online-closed", "registry-unavailable",
    "data-destroyed", "idempotency-key-missing", "idempotency-key-invalid", "idempotency-key-reused",
    "request-in-flight", "invalid-request", "service-unavailable", "unauthenticated", "forbidden", "not-found",
    "too-many-requests", "list-exempt", "list-changed",
]


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
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string", "description": f"{PROBLEM_BASE}<slug>; slugs: {', '.join(SLUGS)}"},
            "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
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
        "required": ["list"],
        "properties": {
            "list": {"type": "integer", "description": "the list id from GET …/lists"},
            "list_version": {
                "description": "the list version the voter was shown (H 4 lid 1): its `version` number or its "
                               "`content_hash` from GET …/lists. When the list has changed since, the answer is 409 "
                               "list-changed with the version that stands now; show the voter that one. Without "
                               "it, the declaration supports the version that stands when it is recorded.",
                "oneOf": [{"type": "integer", "minimum": 1},
                          {"type": "string", "pattern": "^[0-9a-f]{64}$"}]},
            "bsn": {"type": "string", "description": "clerk or municipal system only"},
            "identity_document": {"type": "object", "required": ["type", "number"], "properties": {
                "type": {"type": "string", "enum": ["paspoort", "identiteitskaart", "rijbewijs", "verblijfsdocument"]},
                "number": {"type": "string", "description": "checked for shape, never stored"},
                "country": {"type": "string", "pattern": "^[A-Z]{2}$", "default": "NL",
                            "description": "ISO 3166 code of the issuing state: NL, or for a passport or identity "
                                           "card a state of the EU, the EEA or Switzerland"}}},
            "municipality": {"type": "string", "description": "only when the token covers several"},
        },
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
    "BatchRequest": {
        "type": "object",
        "required": ["declarations"],
        "properties": {"declarations": {"type": "array", "maxItems": 1000, "items": {
            "allOf": [{"$ref": "#/components/schemas/DeclarationRequest"}],
            "required": ["id", "list", "bsn", "identity_document", "signed_at"],
            "properties": {"id": {"type": "string", "maxLength": 100},
                           "signed_at": {"type": "string", "format": "date-time"}}}}},
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
                                                    {"$ref": "#/components/schemas/Problem"}]}}}},
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
            "receipt_code": {"type": "string", "description": "the verification code on the receipt"},
            "status": {"type": "string", "enum": ["registered", "void-multiple"],
                       "description": "void-multiple: the voter has more than one declaration in this election, "
                                      "so none counts (H 4 lid 5, I 2 lid 1 a)"},
        },
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

ELECTION_PARAM = {"name": "election", "in": "path", "required": True, "schema": {"type": "string"},
                  "description": "EML ElectionIdentifier, e.g. TK2025"}
LIST_PARAM = {"name": "list", "in": "path", "required": True, "schema": {"type": "integer"},
              "description": "the list id from GET …/lists"}
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": True,
               "schema": {"type": "string", "maxLength": 200},
               "description": "a replay with the same key and body returns the first answer"}
AUTH_ERRORS = {"401": _problem_ref("no or invalid bearer token"), "403": _problem_ref("role not allowed")}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Steunregister API", "version": "1",
                 "description": "Ondersteuningsverklaringen (Kieswet art. H 4). Errors are RFC 9457 problem+json."},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "access token of the OIDC issuer, audience steunregister-api"}},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/elections": {"get": {
                "operationId": "listElections", "summary": "Elections in the registry",
                "responses": {"200": _json({"type": "array", "items": {"$ref": "#/components/schemas/Election"}},
                                           "elections"), **AUTH_ERRORS}}},
            "/elections/{election}/lists": {"get": {
                "operationId": "listLists", "summary": "Candidate lists with kieskringen and candidates",
                "parameters": [ELECTION_PARAM],
                "responses": {"200": _json({"type": "array", "items": {"$ref": "#/components/schemas/CandidateList"}},
                                           "lists"), "404": _problem_ref("unknown election"), **AUTH_ERRORS}}},
            "/elections/{election}/declarations": {"post": {
                "operationId": "createDeclaration",
                "summary": "Record one declaration (clerk or municipal system: BSN and document; voter: only the list)",
                "parameters": [ELECTION_PARAM, IDEMPOTENCY],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/DeclarationRequest"}}}},
                "responses": {
                    "201": _json({"$ref": "#/components/schemas/Declaration"}, "recorded"),
                    "400": _problem_ref("missing Idempotency-Key or a body that is not a JSON object"),
                    "404": _problem_ref("unknown election"),
                    "409": _problem_ref("already-declared; list-changed (the list changed after the voter saw "
                                        "it: `list_version` and `list_version_hash` name the version that stands "
                                        "now); or request-in-flight for this key"),
                    "410": _problem_ref("the election's personal data was destroyed (I 19)"),
                    "422": _problem_ref("invalid-bsn, invalid-document, unknown-list, list-exempt (H 4 lid 8: "
                                        "the list needs no declarations), not-eligible, not-registered-here, "
                                        "wrong-kieskring, window-closed, online-closed, invalid-request, "
                                        "idempotency-key-reused"),
                    "503": _problem_ref("busy (every slot of this process taken), BRP or database "
                                        "unreachable; nothing recorded, see Retry-After"),
                    **AUTH_ERRORS}}},
            "/elections/{election}/declarations/batch": {"post": {
                "operationId": "createDeclarationBatch",
                "summary": "Up to 1,000 paper declarations, each with its own id and signing time; idempotent per id",
                "parameters": [ELECTION_PARAM],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/BatchRequest"}}}},
                "responses": {"200": _json({"$ref": "#/components/schemas/BatchResult"}, "per-item outcomes"),
                              "400": _problem_ref("not a JSON object"),
                              "422": _problem_ref("invalid-request"), **AUTH_ERRORS}}},
            "/me/declarations": {"get": {
                "operationId": "myDeclarations",
                "summary": "The calling voter's own declarations in every election, with their status",
                "responses": {"200": _json({"type": "array", "items": {"$ref": "#/components/schemas/MyDeclaration"}},
                                           "the voter's declarations (usually none or one per election)"),
                              "429": _problem_ref("too-many-requests; see Retry-After"), **AUTH_ERRORS}}},
            "/elections/{election}/lists/{list}/progress": {"get": {
                "operationId": "listProgress",
                "summary": "Valid declarations per kieskring against the minimum (party agent of the list, or the "
                           "CSB of the election); counts only",
                "parameters": [ELECTION_PARAM, LIST_PARAM],
                "responses": {"200": _json({"$ref": "#/components/schemas/ListProgress"}, "progress"),
                              "404": _problem_ref("unknown-election or unknown-list"),
                              "429": _problem_ref("too-many-requests; see Retry-After"), **AUTH_ERRORS}}},
            "/elections/{election}/examination": {"get": {
                "operationId": "examination",
                "summary": "The CSB's examination: per list per kieskring required, valid, void (more than one "
                           "declaration / other reason) and the status; after the I 4 decision the frozen numbers "
                           "with the decision per kieskring (CSB of the election only; counts, never names)",
                "parameters": [ELECTION_PARAM],
                "responses": {"200": _json({"type": "object",
                                            "required": ["election", "phase", "frozen", "totals", "lists"],
                                            "properties": {
                                                "election": {"type": "string"},
                                                "phase": {"type": "string", "enum": [
                                                    "collecting", "examined", "decided", "final", "purged"]},
                                                "frozen": {"type": "boolean"},
                                                "totals": {"type": "object"},
                                                "sessions": {"type": "object"},
                                                "lists": {"type": "array", "items": {"type": "object"}}}},
                                           "examination"),
                              "404": _problem_ref("unknown-election"), **AUTH_ERRORS}}},
            "/elections/{election}/lists/{list}/dossier": {"get": {
                "operationId": "dossier",
                "summary": "The signed dossier of one list (steunregister-dossier/1, see the README): the "
                           "declarations with names, the manifest, the cover sheet, Ed25519 signatures and the "
                           "registry's public key (CSB of the election only; each download is audited)",
                "parameters": [ELECTION_PARAM, LIST_PARAM],
                "responses": {"200": {"description": "the ZIP; the manifest's SHA-256 is the ETag, its fingerprint "
                                                     "(16 groups of 4 hex digits) in X-Dossier-Fingerprint",
                                      "headers": {"X-Dossier-Fingerprint": {"schema": {"type": "string"}}},
                                      "content": {"application/zip": {"schema": {"type": "string",
                                                                                 "format": "binary"}}}},
                              "404": _problem_ref("unknown-election or unknown-list"),
                              "503": _problem_ref("signing-key-unavailable"), **AUTH_ERRORS}}},
            "/whoami": {"get": {
                "operationId": "whoami", "summary": "The identity behind the bearer token (never the BSN)",
                "responses": {"200": _json({"type": "object", "required": ["kind", "subject", "roles"],
                                            "properties": {"kind": {"type": "string"}, "subject": {"type": "string"},
                                                           "roles": {"type": "array", "items": {"type": "string"}}}},
                                           "identity"), **AUTH_ERRORS}}},
            "/municipalities/{code}": {"get": {
                "operationId": "municipality", "summary": "A municipality the token may act for, and its elections",
                "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"},
                                "description": "CBS code, e.g. GM0363"}],
                "responses": {"200": _json({"type": "object", "required": ["code", "name", "elections"],
                                            "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                                                           "elections": {"type": "array",
                                                                         "items": {"type": "string"}}}},
                                           "municipality"),
                              "404": _problem_ref("not in any election"), **AUTH_ERRORS}}},
            "/openapi.json": {"get": {
                "operationId": "openapi", "summary": "This document", "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1"}}}},
        },
    }
