"""The OpenAPI contract's shared parts: one Problem schema for every error and the error
responses each operation can really give, derived from the view once instead of written
by hand per view (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]).

From the view: 400 where it takes query parameters or a body, 401 where any
authenticator runs (a missing token on a protected operation, a wrong one anywhere),
403 where a permission beyond "authenticated" applies or an unsafe method meets session
authentication (CSRF), 404 for path ids, 406 under DRF's content negotiation, 413 and
415 with a body, 429 with throttles, 503 everywhere (a dependency away). A view adds
what only its services know (409, 422...) with
`extend_schema(responses={409: OpenApiResponse(description=...)})`: an error response
without a body schema gets the Problem one. 405 answers a method an operation does not
have, so it is no operation's response. docs/api-versioning.md, "The error contract".
"""

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.negotiation import DefaultContentNegotiation

from config.errors import PROBLEM_TYPE_BASE
from config.params import CURSOR_PARAM
from config.renderers import GeoJSONRenderer

PROBLEM_JSON = "application/problem+json"

# The members config.exceptions.problem_body writes on every error.
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An RFC 9457 problem: every error of the API.",
    "properties": {
        "type": {
            "type": "string",
            "format": "uri",
            "description": f"The problem type, {PROBLEM_TYPE_BASE}<code>; stable, for programs.",
            "example": PROBLEM_TYPE_BASE + "not-found",
        },
        "title": {"type": "string", "description": "The status' phrase.", "example": "Not Found"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599, "example": 404},
        "detail": {"type": "string", "description": "What went wrong, for people."},
        "request_id": {
            "type": "string",
            "description": "Also in the X-Request-ID header; quote it when reporting.",
        },
    },
    "required": ["type", "title", "status", "detail", "request_id"],
}
VALIDATION_PROBLEM_SCHEMA = {
    **PROBLEM_SCHEMA,
    "description": "A problem naming the fields at fault: every 400. A list item is "
    "`field.<index>`, a nested field `field.sub`; `non_field_errors` holds the rest "
    "(a body that is not JSON, a rule across fields).",
    "properties": {
        **PROBLEM_SCHEMA["properties"],
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "example": {"latitude": ["Ensure this value is less than or equal to 90."]},
        },
    },
    "required": [*PROBLEM_SCHEMA["required"], "errors"],
}

_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 1},
    }
}
_HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "description": "`Token`: how to authenticate.",
            "schema": {"type": "string"},
        }
    },
    "429": _RETRY_AFTER,
    "503": _RETRY_AFTER,
}
_LINK = {
    "Link": {
        "description": 'RFC 8288 links to the neighbouring pages: `<url>; rel="next"` and '
        '`<url>; rel="prev"`, as `next` and `previous` in the body.',
        "schema": {"type": "string"},
    }
}
# Permissions that refuse only the anonymous (401), never an authenticated caller.
_AUTHENTICATED_ONLY = (permissions.AllowAny, permissions.IsAuthenticated)


# What a nullable reference admits besides its component (below).
_NULL_SCHEMA = {"type": "object", "nullable": True, "enum": [None], "description": "null"}


def nullable_references(result, generator, request, public):
    """SPECTACULAR_SETTINGS POSTPROCESSING_HOOKS: say "this component or null" in a way
    OpenAPI 3.0.3 validators read as such.

    drf-spectacular writes a nullable nested serializer as `{allOf: [$ref], nullable:
    true}`, but in OpenAPI 3.0.3 `nullable` only widens a `type` in the same Schema
    Object, so a strict validator (openapi-schema-validator, a generated client's model)
    refuses the null the API sends. `{oneOf: [$ref, {type: object, nullable: true,
    enum: [null]}]}` admits exactly the component or null (the OpenAPI "Clarify
    nullable" proposal's reading)."""

    def rewrite(node):
        if isinstance(node, dict):
            refs = node.get("allOf")
            if (
                node.get("nullable") is True
                and "type" not in node
                and isinstance(refs, list)
                and len(refs) == 1
                and set(refs[0]) == {"$ref"}
            ):
                rest = {k: v for k, v in node.items() if k not in ("allOf", "nullable")}
                node = {"oneOf": [refs[0], dict(_NULL_SCHEMA)], **rest}
            return {key: rewrite(value) for key, value in node.items()}
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        return node

    return rewrite(result)


class SessionCookieScheme(SessionScheme):
    """config.authentication's session authenticator is the admin's session cookie, as
    documented for DRF's own (registered on import: this module is the schema class's)."""

    target_class = "config.authentication.SessionCookieAuthentication"


class PlacemapAutoSchema(AutoSchema):
    def get_auth(self):
        # A view without permissions is public like AllowAny: anonymous or with a token.
        auths = super().get_auth()
        if not self.view.get_permissions() and {} not in auths:
            auths.append({})
        return auths

    def map_renderers(self, attribute: str):
        # A GeoJSON view answers geo+json; its JSON renderer serves only clients that
        # ask for application/json by name.
        if any(issubclass(r, GeoJSONRenderer) for r in self.view.renderer_classes):
            return [getattr(GeoJSONRenderer, attribute)]
        return super().map_renderers(attribute)

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        problem = self._component("Problem", PROBLEM_SCHEMA)
        validation_problem = self._component("ValidationProblem", VALIDATION_PROBLEM_SCHEMA)
        responses = operation["responses"]
        for code, description in self.error_responses(operation).items():
            responses.setdefault(code, {"description": description})
        for code, response in responses.items():
            if int(code) < 400:
                continue
            if "content" not in response:
                schema = validation_problem if code == "400" else problem
                response["content"] = {PROBLEM_JSON: {"schema": schema.ref}}
            if code in _HEADERS:
                response.setdefault("headers", {}).update(_HEADERS[code])
        if any(p["name"] == CURSOR_PARAM for p in operation.get("parameters", ())):
            # A paginated list: its links are headers too.
            responses["200"].setdefault("headers", {}).update(_LINK)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def error_responses(self, operation: dict) -> dict[str, str]:
        """The error statuses the view can answer, with what each means here."""
        view, unsafe = self.view, self.method not in permissions.SAFE_METHODS
        body = "requestBody" in operation
        query = any(p["in"] == "query" for p in operation.get("parameters", ()))
        authenticators = view.get_authenticators()
        perms = view.get_permissions()
        errors: dict[str, str] = {}
        if body or query:
            errors["400"] = "Invalid input: `errors` names each parameter or field at fault."
        if authenticators:
            errors["401"] = (
                "No credentials, or invalid ones."
                if any(not isinstance(p, permissions.AllowAny) for p in perms)
                else "Invalid credentials (send none to read anonymously)."
            )
        csrf = unsafe and any(isinstance(a, SessionAuthentication) for a in authenticators)
        if csrf or any(not isinstance(p, _AUTHENTICATED_ONLY) for p in perms):
            errors["403"] = "Not allowed for this account (or a session without its CSRF token)."
        if "{" in self.path:
            errors["404"] = "No such resource, or not visible to the caller."
        if issubclass(view.content_negotiation_class, DefaultContentNegotiation):
            errors["406"] = "No representation matches the Accept header."
        if body:
            errors["413"] = "The body is larger than the server accepts."
            errors["415"] = "The body's Content-Type is not one this operation reads."
        if view.get_throttles():
            errors["429"] = "Rate limit reached; see Retry-After."
        errors["503"] = "A dependency (database, Redis, storage) is away; see Retry-After."
        return errors

    def _component(self, name: str, schema: dict) -> ResolvedComponent:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
        )
        self.registry.register_on_missing(component)
        return component
