"""Who is asking, and may they: the Identity and the decorators every route uses.

Pages::

    @bp.get("/balie/<code>")
    @role_required("clerk")
    def counter(code):
        require_municipality(code)          # 403 page unless this clerk works for that municipality

API (bearer tokens only, answers are RFC 9457 problem+json)::

    @api.post("/declarations")
    @api_role_required("clerk", "system")
    def create():
        require_municipality(body["municipality"])

Role names: ``voter`` (DigiD login), ``clerk`` (``clerk:GM0363``), ``csb`` (``csb:TK2025``),
``party_agent`` (``agent:<list id>``), ``system`` (a municipal system with a client_credentials
token; its ``clerk:GMxxxx`` roles bind it to municipalities). No roles given means any identity.

Each decorator sets ``view._access`` so the route-inventory test can see the view is guarded;
scope checks never live inline in routes but in ``require_municipality``/``require_election``/
``require_list``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

from flask import current_app, g, has_request_context, redirect, render_template, request, url_for
from werkzeug.exceptions import Forbidden

from registry.problems import problem

F = TypeVar("F", bound=Callable[..., Any])
IdentityKind = Literal["voter", "staff", "system"]
ROLE_NAMES: frozenset[str] = frozenset({"voter", "clerk", "csb", "party_agent", "system"})

MUNICIPALITY_ROLE = re.compile(r"clerk:(GM\d{4})")
ELECTION_ROLE = re.compile(r"csb:([A-Za-z0-9_.\-]{1,80})")
AGENT_ROLE = re.compile(r"agent:(\d{1,12})")
_UNSET = object()


@dataclass(frozen=True)
class Identity:
    """The logged-in person or system. Holds the BSN only in memory (never in a repr)."""

    kind: IdentityKind
    subject: str
    acr: str
    roles: frozenset[str]
    bsn: str | None
    organisation: str | None
    employee_id: str | None
    display_name: str

    def __repr__(self) -> str:
        return (f"Identity(kind={self.kind!r}, subject={self.subject!r}, acr={self.acr!r}, "
                f"roles={sorted(self.roles)!r}, organisation={self.organisation!r})")

    def municipalities(self) -> set[str]:
        return {m.group(1) for role in self.roles if (m := MUNICIPALITY_ROLE.fullmatch(role))}

    def elections(self) -> set[str]:
        return {m.group(1) for role in self.roles if (m := ELECTION_ROLE.fullmatch(role))}

    def agent_lists(self) -> set[str]:
        return {m.group(1) for role in self.roles if (m := AGENT_ROLE.fullmatch(role))}

    def role_names(self) -> set[str]:
        if self.kind == "voter":
            return {"voter"}
        if self.kind == "system":
            return {"system"}
        names = set()
        if self.municipalities():
            names.add("clerk")
        if self.elections():
            names.add("csb")
        if self.agent_lists():
            names.add("party_agent")
        return names

    def has_role(self, *names: str) -> bool:
        return not names or bool(self.role_names().intersection(names))

    @property
    def actor(self) -> str:
        """The audit actor: ``clerk:GM0363:E12345``, ``voter:<sub>``, ``system:<client id>``."""
        if self.kind == "voter":
            return f"voter:{self.subject}"
        if self.kind == "system":
            return f"system:{self.subject}"
        who = self.employee_id or self.subject
        if len(self.roles) == 1:
            return f"{next(iter(self.roles))}:{who}"
        return f"staff:{self.organisation or '-'}:{who}"

    @property
    def audit_actor(self) -> str:
        """The actor written into the audit chain, which outlives the I 19 purge: a voter is just
        ``voter`` (the declaration row says which one until the purge); staff and systems as ``actor``."""
        return "voter" if self.kind == "voter" else self.actor

    @property
    def masked_bsn(self) -> str | None:
        return f"*****{self.bsn[-4:]}" if self.bsn else None

    def public_dict(self) -> dict[str, Any]:
        """Everything but the BSN, for the API and pages."""
        return {
            "kind": self.kind,
            "subject": self.subject,
            "acr": self.acr,
            "roles": sorted(self.roles),
            "role_names": sorted(self.role_names()),
            "organisation": self.organisation,
            "employee_id": self.employee_id,
            "display_name": self.display_name,
            "municipalities": sorted(self.municipalities()),
            "elections": sorted(self.elections()),
            "agent_lists": sorted(self.agent_lists(), key=int),
        }


RESOLVERS = "steunregister.identity_resolvers"


@dataclass(frozen=True)
class IdentityResolvers:
    """How a request's identity is found: given by auth.init_app (auth.rp.services), so this module, which
    every feature imports for its decorators, depends on no other auth module."""

    from_session_cookie: Callable[[], Identity | None]
    from_access_token: Callable[[str], Identity]  # raises ``login_failed``
    login_failed: type[Exception]  # with .kind, .code and .public_detail


def _resolvers() -> IdentityResolvers:
    return cast(IdentityResolvers, current_app.extensions[RESOLVERS])


def current_identity() -> Identity | None:
    """The identity of this request: from the bearer token on API routes, else the session cookie."""
    if not has_request_context():
        return None
    cached = g.get("_steunregister_identity", _UNSET)
    if cached is not _UNSET:
        return cast("Identity | None", cached)
    identity = _resolvers().from_session_cookie()
    g._steunregister_identity = identity
    return identity


def _set_identity(identity: Identity | None) -> None:
    g._steunregister_identity = identity


# --- page decorators -----------------------------------------------------------------------------

def login_required(view: F) -> F:
    """Any logged-in identity (voter or staff)."""
    return role_required()(view)


def role_required(*roles: str) -> Callable[[F], F]:
    _check_role_names(roles)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            identity = current_identity()
            if identity is None:
                return redirect(url_for("auth.login", next=_next_target()))
            if not identity.has_role(*roles):
                return forbidden_page(_role_message(roles))
            return view(*args, **kwargs)

        wrapper._access = ("roles", frozenset(roles))  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorate


def api_role_required(*roles: str) -> Callable[[F], F]:
    """Bearer token (audience OIDC_API_AUDIENCE) with one of the roles; problem+json otherwise."""
    _check_role_names(roles)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            resolvers = _resolvers()
            token = _bearer_token()
            if token is None:
                return problem(401, "unauthenticated", "Niet ingelogd",
                               "Stuur een toegangstoken mee: Authorization: Bearer <token>.",
                               headers={"WWW-Authenticate": 'Bearer realm="steunregister"'})
            try:
                identity = resolvers.from_access_token(token)
            except resolvers.login_failed as exc:
                exc = cast(Any, exc)
                if exc.kind == "level":
                    # RFC 9470: the client may get a new token at a higher level and try again.
                    return problem(401, "insufficient-assurance", "Inlogniveau te laag", exc.public_detail,
                                   headers={"WWW-Authenticate": 'Bearer realm="steunregister", '
                                                                'error="insufficient_user_authentication"'},
                                   reason=exc.code)
                if exc.kind == "unreachable":
                    return problem(503, "identity-provider-unavailable", "Inlogdienst niet bereikbaar",
                                   exc.public_detail, headers={"Retry-After": "30"}, reason=exc.code)
                return problem(401, "invalid-token", "Toegangstoken ongeldig", exc.public_detail,
                               headers={"WWW-Authenticate": 'Bearer realm="steunregister", error="invalid_token"'},
                               reason=exc.code)
            _set_identity(identity)
            if not identity.has_role(*roles):
                return problem(403, "forbidden", "Geen toegang", _role_message(roles),
                               headers={"WWW-Authenticate":
                                        'Bearer realm="steunregister", error="insufficient_scope"'})
            return view(*args, **kwargs)

        wrapper._access = ("api_roles", frozenset(roles))  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorate


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _check_role_names(roles: tuple[str, ...]) -> None:
    unknown = set(roles) - ROLE_NAMES
    if unknown:
        raise ValueError(f"unknown role names: {sorted(unknown)}")


def _next_target() -> str:
    return request.full_path.rstrip("?") if request.method == "GET" else request.path


_ROLE_DUTCH = {"voter": "kiezers (inloggen met DigiD)", "clerk": "baliemedewerkers van een gemeente",
               "csb": "leden van het centraal stembureau", "party_agent": "gemachtigden van een partij",
               "system": "gemeentelijke systemen"}


def _role_message(roles: tuple[str, ...]) -> str:
    if not roles:
        return "Deze pagina is alleen voor wie is ingelogd."
    return "Deze pagina is alleen voor " + " en ".join(_ROLE_DUTCH[r] for r in roles) + "."


# --- scope checks ------------------------------------------------------------------------------

class ScopeDenied(Forbidden):
    """Raised by the require_* helpers; rendered as a 403 page or as problem+json under /api/."""

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


def _identity_or_deny() -> Identity:
    identity = current_identity()
    if identity is None:
        raise ScopeDenied("U bent niet ingelogd.")
    return identity


def require_municipality(code: str) -> Identity:
    """The current clerk or municipal system acts for municipality ``code`` (e.g. GM0392)."""
    identity = _identity_or_deny()
    if identity.kind == "voter" or code not in identity.municipalities():
        raise ScopeDenied(f"U mag niet optreden voor gemeente {code}.", municipality=code)
    return identity


def require_election(identifier: str) -> Identity:
    """The current identity is a member of the centraal stembureau of election ``identifier``."""
    identity = _identity_or_deny()
    if identity.kind == "voter" or identifier not in identity.elections():
        raise ScopeDenied(f"U bent geen lid van het centraal stembureau voor {identifier}.", election=identifier)
    return identity


def require_list(list_id: int | str) -> Identity:
    """The current identity is the party agent of candidate list ``list_id``."""
    identity = _identity_or_deny()
    if identity.kind == "voter" or str(list_id) not in identity.agent_lists():
        raise ScopeDenied("U bent geen gemachtigde van deze kandidatenlijst.", list_id=str(list_id))
    return identity


def forbidden_page(message: str, status: int = 403) -> tuple[str, int]:
    return render_template("auth/forbidden.html", message=message, identity=current_identity()), status


def handle_scope_denied(exc: ScopeDenied) -> Any:
    if request.path.startswith("/api/"):
        return problem(403, "forbidden", "Geen toegang", exc.detail, **exc.extra)
    return forbidden_page(exc.detail)
