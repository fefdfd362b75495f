"""The mock issuer's logic: who can log in, authorization codes, tokens and userinfo.

Identities (all synthetic):
* ``bsn:<BSN>``: a person of the BRP fixture, DigiD levels basis … hoog (default substantieel);
* ``clerk:<GM code>``: a clerk of a municipality of any imported election;
* ``csb:<election>``: a member of that election's centraal stembureau;
* ``agent:<designation or list id>``: the party agent of every list with that designation (or that
  one list); eHerkenning levels loa1 … loa4 (default loa3).

Organisations get synthetic OIN-shaped numbers (municipalities, stembureaus) or KvK-shaped numbers
(parties); employee ids are derived from the role, so a login is the same person every time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import delete, func, select, update

from auth.mock_idp.clients import MockClient, municipality_oin
from auth.mock_idp.keys import KeyStore
from auth.models import MockIdpCode
from auth.rp import tokens
from auth.settings import DIGID_LEVELS, EHERKENNING_LEVELS, AuthSettings
from registry.brp import DEMO_CASES
from registry.db import begin_write, db, utcnow
from registry.domain.bsn import InvalidBsn, normalize_bsn
from registry.elections.models import CandidateList, Election, Municipality
from registry.people import person_registry

EXTENSION = "steunregister.mock_idp"
SUB_ID_TYPE_BSN = "urn:nl-eid-gdi:1.0:id:legacy-BSN"
OIN_TYPE = "urn:etoegang:1.9:EntityConcernedID:OIN"
KVK_TYPE = "urn:etoegang:1.9:EntityConcernedID:KvKnr"
CODE_TTL = 60
ID_TOKEN_TTL = 300
ACCESS_TOKEN_TTL = 600
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


class UnknownHint(ValueError):
    """A login_hint (or picker choice) that names nobody the mock knows. The message is Dutch."""


class TokenRequestError(Exception):
    """An OAuth error answer from the token endpoint (RFC 6749 §5.2)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class MockIdentity:
    kind: Literal["person", "staff"]
    hint: str
    label: str
    sub: str
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def levels(self) -> tuple[str, ...]:
        return DIGID_LEVELS if self.kind == "person" else EHERKENNING_LEVELS

    @property
    def default_level(self) -> str:
        return "substantieel" if self.kind == "person" else "loa3"

    def level_for(self, requested: str | None) -> str:
        """The first level in acr_values that fits this kind of login, else the default."""
        for value in (requested or "").split():
            if value in self.levels:
                return value
        return self.default_level


class MockIdp:
    def __init__(self, conf: AuthSettings) -> None:
        self.conf = conf
        self.keys = KeyStore(conf.mock.key_dir, conf.mock.key_retention_seconds)
        self._codes = AESGCM(conf.derive_key("mock-idp codes v1"))
        self._subjects = conf.derive_key("mock-idp subjects v1")

    @property
    def issuer(self) -> str:
        return self.conf.mock.issuer

    # --- identities ---
    def _digest(self, text: str) -> str:
        return hmac.new(self._subjects, text.encode(), hashlib.sha256).hexdigest()

    def _employee_id(self, hint: str) -> str:
        return f"E{int(self._digest('employee ' + hint)[:8], 16) % 100000:05d}"

    def resolve_hint(self, hint: str | None) -> MockIdentity:
        kind, _, value = (hint or "").strip().partition(":")
        value = value.strip()
        if not value:
            raise UnknownHint("Gebruik login_hint bsn:<BSN>, clerk:<GM-code>, csb:<verkiezing> of agent:<aanduiding "
                              "of lijstnummer-id>.")
        if kind == "bsn":
            return self._person(value)
        if kind == "clerk":
            return self._clerk(value.upper())
        if kind == "csb":
            return self._csb(value)
        if kind == "agent":
            return self._agent(value)
        raise UnknownHint(f"Onbekend soort identiteit {kind!r}: gebruik bsn, clerk, csb of agent.")

    def _person(self, value: str) -> MockIdentity:
        try:
            bsn = normalize_bsn(value)
        except InvalidBsn:
            raise UnknownHint("Dat is geen geldig BSN (elfproef).") from None
        registry = person_registry()
        persons = getattr(registry, "persons", None)
        label = "persoon"
        if callable(persons):
            person = registry.lookup(bsn)
            if person is None:
                raise UnknownHint("Dit BSN staat niet in de BRP-testgegevens.")
            label = person.full_name
        return MockIdentity("person", f"bsn:{bsn}", label, "P" + self._digest("person " + bsn)[:32],
                            {self.conf.mock.bsn_claim: bsn, "sub_id_type": SUB_ID_TYPE_BSN})

    def _staff(self, hint: str, label: str, organisation: str, organisation_type: str,
               roles: list[str]) -> MockIdentity:
        employee = self._employee_id(hint)
        return MockIdentity("staff", hint, label, f"{organisation}-{employee}", {
            "organisation": organisation, "organisation_id_type": organisation_type,
            "employee_id": employee, "roles": roles, "name": label,
        })

    def _clerk(self, code: str) -> MockIdentity:
        name = db.session.scalar(select(Municipality.name).where(Municipality.code == code)
                                 .order_by(Municipality.election_id.desc()).limit(1))
        if name is None:
            raise UnknownHint(f"Gemeente {code} doet aan geen ingelezen verkiezing mee.")
        return self._staff(f"clerk:{code}", f"Baliemedewerker gemeente {name}", municipality_oin(code), OIN_TYPE,
                           [f"clerk:{code}"])

    def _csb(self, identifier: str) -> MockIdentity:
        election = db.session.scalar(select(Election).where(Election.identifier == identifier))
        if election is None:
            raise UnknownHint(f"Verkiezing {identifier} is niet ingelezen.")
        oin = f"00000002{int(self._digest('csb ' + identifier)[:8], 16) % 10**9:09d}000"
        return self._staff(f"csb:{identifier}", f"Lid centraal stembureau {election.name}", oin, OIN_TYPE,
                           [f"csb:{identifier}"])

    def _agent(self, value: str) -> MockIdentity:
        lists: list[CandidateList] = []
        if value.isdigit():
            found = db.session.get(CandidateList, int(value))
            lists = [found] if found is not None else []
        if not lists:
            lists = list(db.session.scalars(
                select(CandidateList).where(func.lower(CandidateList.designation) == value.lower())
                .order_by(CandidateList.id)))
        if not lists:
            raise UnknownHint(f"Geen kandidatenlijst met aanduiding of id {value!r}.")
        designation = lists[0].designation or "blanco lijst"
        kvk = f"9{int(self._digest('party ' + designation.lower())[:8], 16) % 10**7:07d}"
        return self._staff(f"agent:{value}", f"Gemachtigde {designation}", kvk, KVK_TYPE,
                           [f"agent:{cl.id}" for cl in lists])

    def person_choices(self) -> list[tuple[str, str]]:
        """(hint, label) for every person of the fixture; the demo's edge cases are named."""
        registry = person_registry()
        persons = getattr(registry, "persons", None)
        if not callable(persons):
            return []
        try:
            cases = {bsn: case for case, bsn in json.loads(DEMO_CASES.read_text()).items()}
        except (OSError, ValueError):
            cases = {}
        choices = []
        for person in persons():
            where = person.municipality_name or "geen Nederlandse gemeente"
            case = f" – {cases[person.bsn].replace('_', ' ')}" if person.bsn in cases else ""
            choices.append((f"bsn:{person.bsn}", f"{person.full_name} ({where}), BSN {person.bsn}{case}"))
        return choices

    def staff_choices(self) -> list[tuple[str, str]]:
        choices: list[tuple[str, str]] = []
        for code, name in db.session.execute(
            select(Municipality.code, func.max(Municipality.name)).group_by(Municipality.code)
            .order_by(Municipality.code)
        ):
            choices.append((f"clerk:{code}", f"Baliemedewerker gemeente {name} ({code})"))
        for identifier, name in db.session.execute(select(Election.identifier, Election.name)
                                                   .order_by(Election.identifier)):
            choices.append((f"csb:{identifier}", f"Lid centraal stembureau {name} ({identifier})"))
        for list_id, designation, identifier in db.session.execute(
            select(CandidateList.id, CandidateList.designation, Election.identifier)
            .join(Election, Election.id == CandidateList.election_id)
            .order_by(Election.identifier, CandidateList.number)
        ):
            choices.append((f"agent:{list_id}", f"Gemachtigde {designation or 'blanco lijst'} ({identifier}, "
                                                f"lijst-id {list_id})"))
        return choices

    # --- authorization codes ---
    def issue_code(self, client: MockClient, redirect_uri: str, identity: MockIdentity, level: str,
                   nonce: str | None, challenge: str, audience: str) -> str:
        code = secrets.token_urlsafe(32)
        code_hash = hashlib.sha256(code.encode()).hexdigest()
        grant = {"client_id": client.client_id, "redirect_uri": redirect_uri, "sub": identity.sub,
                 "claims": identity.claims, "acr": level, "nonce": nonce, "challenge": challenge,
                 "audience": audience, "auth_time": int(time.time())}
        nonce_bytes = secrets.token_bytes(12)
        blob = nonce_bytes + self._codes.encrypt(nonce_bytes, json.dumps(grant).encode(), code_hash.encode())
        now = utcnow()
        begin_write(db.session)
        try:
            db.session.execute(delete(MockIdpCode).where(MockIdpCode.expires_at < now - timedelta(hours=1)))
            db.session.add(MockIdpCode(code_hash=code_hash, payload_ciphertext=blob,
                                       expires_at=now + timedelta(seconds=CODE_TTL)))
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        return code

    def redeem_code(self, client: MockClient, code: str, redirect_uri: str | None,
                    verifier: str | None) -> dict[str, Any]:
        code_hash = hashlib.sha256(code.encode()).hexdigest()
        now = utcnow()
        begin_write(db.session)
        try:
            row = db.session.get(MockIdpCode, code_hash)
            blob = row.payload_ciphertext if row is not None else None
            fresh = row is not None and row.used_at is None and row.expires_at > now
            # Every redemption attempt burns the code (RFC 6749 §4.1.2: single use).
            burned = db.session.execute(update(MockIdpCode).where(MockIdpCode.code_hash == code_hash,
                                                                  MockIdpCode.used_at.is_(None))
                                        .values(used_at=now)).rowcount == 1
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        if blob is None or not fresh or not burned:
            raise TokenRequestError("invalid_grant", "De code is onbekend, verlopen of al gebruikt.")
        try:
            grant = json.loads(self._codes.decrypt(blob[:12], blob[12:], code_hash.encode()))
        except (InvalidTag, ValueError):
            raise TokenRequestError("invalid_grant", "De code is onleesbaar.") from None
        if grant["client_id"] != client.client_id:
            raise TokenRequestError("invalid_grant", "De code is voor een andere client uitgegeven.")
        if redirect_uri != grant["redirect_uri"]:
            raise TokenRequestError("invalid_grant", "redirect_uri verschilt van die bij het autoriseren.")
        if not verifier or not _VERIFIER.fullmatch(verifier) or not hmac.compare_digest(
                _s256(verifier), grant["challenge"]):
            raise TokenRequestError("invalid_grant", "De PKCE code_verifier past niet bij de code_challenge.")
        access = self._access_token(client, grant["sub"], grant["claims"], grant["acr"], grant["audience"])
        id_claims = {
            "iss": self.issuer, "sub": grant["sub"], "aud": client.client_id, "azp": client.client_id,
            "iat": _now(), "exp": _now() + ID_TOKEN_TTL, "auth_time": grant["auth_time"],
            "acr": grant["acr"], "at_hash": tokens.at_hash(access), "sid": secrets.token_urlsafe(16),
            **grant["claims"],
        }
        if grant["nonce"]:
            id_claims["nonce"] = grant["nonce"]
        kid, pem = self.keys.signing_key(client.signing_alg)
        id_token = tokens.sign_jwt(id_claims, pem, client.signing_alg, kid)
        return {"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_TOKEN_TTL,
                "id_token": id_token, "scope": "openid"}

    def client_credentials(self, client: MockClient, audience: str | None) -> dict[str, Any]:
        audience = audience or client.audiences[0]
        if audience not in client.audiences:
            raise TokenRequestError("invalid_target", f"Deze client krijgt geen token voor {audience}.")
        claims = {"roles": list(client.roles), "name": client.label}
        if client.organisation:
            claims.update(organisation=client.organisation, organisation_id_type=OIN_TYPE)
        access = self._access_token(client, client.client_id, claims, None, audience)
        return {"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_TOKEN_TTL}

    def _access_token(self, client: MockClient, sub: str, claims: dict[str, Any], acr: str | None,
                      audience: str) -> str:
        body: dict[str, Any] = {
            "iss": self.issuer, "sub": sub, "aud": audience, "client_id": client.client_id,
            "iat": _now(), "nbf": _now(), "exp": _now() + ACCESS_TOKEN_TTL, "jti": secrets.token_urlsafe(16),
            "scope": "openid", **claims,
        }
        if acr:
            body["acr"] = acr
        kid, pem = self.keys.signing_key("ES256")
        return tokens.sign_jwt(body, pem, "ES256", kid, typ="at+jwt")

    def userinfo(self, access_token: str) -> dict[str, Any]:
        claims = tokens.verify_jwt(access_token, self.keys.jwks(), issuer=self.issuer,
                                   audience=self.conf.api_audience, leeway=self.conf.clock_skew)
        if claims.get("sub") == claims.get("client_id"):
            raise tokens.TokenError("no_user", "a client_credentials token has no user")
        keep = {"sub", "acr", self.conf.mock.bsn_claim, "sub_id_type", "organisation", "organisation_id_type",
                "employee_id", "roles", "name"}
        return {k: v for k, v in claims.items() if k in keep}


def _now() -> int:
    return int(time.time())


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")


def valid_challenge(challenge: str | None) -> bool:
    return bool(challenge) and bool(_CHALLENGE.fullmatch(challenge or ""))


def mock() -> MockIdp:
    return current_app.extensions[EXTENSION]
