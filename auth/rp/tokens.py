"""JSON Web Tokens: the ONE module that imports python-jose, so the library can be swapped here alone.

Verification trusts nothing in a token before checking it:

1. the header's ``alg`` must be in ALLOWED_ALGORITHMS (never ``none``, never HS*), checked before any
   key is touched: an HMAC token "signed" with a provider's public key is refused right here;
2. the key comes from the provider's JWKS only (``jku``, ``x5u`` and embedded ``jwk`` headers are
   ignored), by ``kid``; without a ``kid`` only when the JWKS holds exactly one signing key;
3. the JWK's ``kty`` (and ``crv``, and ``alg`` when given) must fit the header's alg family, and the
   jose key is built with ``jwk.construct(public members, algorithm=alg)`` and verified with
   ``algorithms=[alg]`` — python-jose would otherwise happily treat key material as an HMAC secret;
4. ``iss`` exact, ``aud`` present and containing our audience, ``exp`` and ``iat`` present, ``exp``,
   ``iat`` and ``nbf`` within the allowed clock skew, ``sub`` a non-empty string.

python-jose has no PS256; a small key class adds RSASSA-PSS (RFC 7518 §3.5: MGF1-SHA-256, salt
length 32) through jose's own extension point.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from jose import jwk, jws, jwt
from jose.backends.cryptography_backend import CryptographyRSAKey
from jose.exceptions import ExpiredSignatureError, JOSEError, JWKError, JWTClaimsError

ALLOWED_ALGORITHMS: tuple[str, ...] = ("RS256", "PS256", "ES256")
KEY_TYPES: dict[str, str] = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC"}
_PUBLIC_MEMBERS: dict[str, tuple[str, ...]] = {"RSA": ("kty", "n", "e"), "EC": ("kty", "crv", "x", "y")}
MAX_TOKEN_LENGTH = 16_384  # a JWT larger than this is not something a broker sends us


class TokenError(Exception):
    """A token that must not be trusted. ``code`` is a short stable reason for logs and tests."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class UnknownKey(TokenError):
    """The JWKS has no key for this token (a rotation the cache has not seen yet)."""

    def __init__(self, kid: str | None) -> None:
        super().__init__("unknown_key", f"no key with kid {kid!r} in the provider's JWKS")
        self.kid = kid


class _PS256Key(CryptographyRSAKey):
    """RSASSA-PSS with SHA-256 on top of jose's RSA key (jose 3.x ships PKCS#1 v1.5 only)."""

    _PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)

    def __init__(self, key: Any, algorithm: str) -> None:
        if algorithm != "PS256":
            raise JWKError(f"{algorithm} is not PS256")
        super().__init__(key, "RS256")  # loads the RSA key; hash and padding are ours below
        self._algorithm = "PS256"

    def sign(self, msg: bytes) -> bytes:
        try:
            return self.prepared_key.sign(msg, self._PSS, hashes.SHA256())
        except Exception as exc:
            raise JWKError(exc) from exc

    def verify(self, msg: bytes, sig: bytes) -> bool:
        try:
            self.public_key().prepared_key.verify(sig, msg, self._PSS, hashes.SHA256())
        except InvalidSignature:
            return False
        return True


jwk.register_key("PS256", _PS256Key)


# --- verification ------------------------------------------------------------------------------

def unverified_header(token: Any) -> dict[str, Any]:
    """The JOSE header, parsed but not trusted; refuses anything whose alg is not allowed."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise TokenError("malformed", "not a compact JWS")
    try:
        header = jwt.get_unverified_header(token)
    except JOSEError:
        raise TokenError("malformed", "the header is not valid base64url JSON") from None
    if not isinstance(header, dict):
        raise TokenError("malformed", "the header is not a JSON object")
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise TokenError("algorithm_not_allowed", f"alg {alg!r} is not one of {', '.join(ALLOWED_ALGORITHMS)}")
    if "crit" in header:
        raise TokenError("malformed", "critical header parameters are not supported")
    return header


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims, NOT verified: only to pick which issuer's keys to verify with."""
    unverified_header(token)
    try:
        claims = jwt.get_unverified_claims(token)
    except JOSEError:
        raise TokenError("malformed", "the claims are not valid base64url JSON") from None
    return dict(claims)


def select_key(header: Mapping[str, Any], jwks: Mapping[str, Any]) -> dict[str, Any]:
    """The JWK from the provider's set that must have signed a token with this header."""
    alg = header["alg"]
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list):
        raise TokenError("bad_jwks", "the provider's JWKS has no keys list")
    signing = [k for k in keys if isinstance(k, Mapping) and k.get("use", "sig") == "sig"]
    kid = header.get("kid")
    if kid is not None:
        if not isinstance(kid, str):
            raise TokenError("malformed", "kid is not a string")
        matches = [k for k in signing if k.get("kid") == kid]
        if not matches:
            raise UnknownKey(kid)
        if len(matches) > 1:
            raise TokenError("bad_jwks", f"the JWKS holds {len(matches)} keys with kid {kid!r}")
        key = matches[0]
    else:
        if not signing:
            raise UnknownKey(None)
        if len(signing) > 1:
            raise TokenError("kid_missing", f"the token has no kid and the JWKS holds {len(signing)} keys")
        key = signing[0]
    if key.get("kty") != KEY_TYPES[alg]:
        raise TokenError("key_type_mismatch", f"alg {alg} needs a {KEY_TYPES[alg]} key, the JWKS key is "
                                              f"{key.get('kty')!r}")
    if alg == "ES256" and key.get("crv") != "P-256":
        raise TokenError("key_type_mismatch", "ES256 needs a P-256 key")
    if "alg" in key and key["alg"] != alg:
        raise TokenError("key_type_mismatch", f"the key is for {key['alg']!r}, the token says {alg}")
    ops = key.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        raise TokenError("key_type_mismatch", "the key may not be used to verify signatures")
    public = {name: key[name] for name in _PUBLIC_MEMBERS[key["kty"]] if name in key}
    if len(public) != len(_PUBLIC_MEMBERS[key["kty"]]):
        raise TokenError("bad_jwks", "the key lacks public members")
    return public


def verify_jwt(token: str, jwks: Mapping[str, Any], *, issuer: str, audience: str, leeway: int,
               now: float | None = None) -> dict[str, Any]:
    """Verify signature and registered claims; return the claims. Raises TokenError (or UnknownKey)."""
    header = unverified_header(token)
    alg = header["alg"]
    public = select_key(header, jwks)
    try:
        key = jwk.construct(public, algorithm=alg)
    except (JOSEError, ValueError, TypeError):
        raise TokenError("bad_jwks", "the provider's key cannot be loaded") from None
    options = {
        "require_iat": True, "require_exp": True, "require_aud": True, "require_iss": True,
        "require_sub": True,
        "verify_at_hash": False,  # checked by the caller against the access token it holds
        "leeway": leeway,
    }
    try:
        claims = jwt.decode(token, key, algorithms=[alg], audience=audience, issuer=issuer, options=options)
    except ExpiredSignatureError:
        raise TokenError("expired", "the token has expired") from None
    except JWTClaimsError as exc:
        raise TokenError(_claims_code(str(exc)), str(exc)) from None
    except JOSEError as exc:
        message = str(exc)
        if "missing required key" in message:
            claim = message.split('"')[1] if '"' in message else "claim"
            raise TokenError(f"missing_{claim}", message) from None
        if "Signature verification failed" in message:
            raise TokenError("signature", "the signature does not match the provider's key") from None
        raise TokenError("malformed", message) from None
    except (TypeError, ValueError, KeyError, AttributeError):
        # jose assumes well-typed claims in places (int(None), a list as iat…): never a 500.
        raise TokenError("malformed", "the claims have the wrong types") from None
    _check_times(claims, time.time() if now is None else now, leeway)
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip():
        raise TokenError("missing_sub", "the token has no subject")
    return dict(claims)


def _claims_code(message: str) -> str:
    lowered = message.lower()
    if "audience" in lowered:
        return "audience"
    if "issuer" in lowered:
        return "issuer"
    if "nbf" in lowered:
        return "not_yet_valid"
    return "claims"


def _check_times(claims: Mapping[str, Any], now: float, leeway: int) -> None:
    for name in ("exp", "iat", "nbf"):
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise TokenError("malformed", f"{name} is not a number")
    if claims["exp"] < now - leeway:
        raise TokenError("expired", "the token has expired")
    if claims["iat"] > now + leeway:
        raise TokenError("issued_in_future", "the token was issued in the future")
    if "nbf" in claims and claims["nbf"] > now + leeway:
        raise TokenError("not_yet_valid", "the token is not valid yet")


def at_hash(access_token: str) -> str:
    """OIDC at_hash for our algorithms (all SHA-256): left half of the digest, base64url."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).decode().rstrip("=")


# --- signing (the mock issuer) -----------------------------------------------------------------

@functools.lru_cache(maxsize=32)
def _private_key(private_pem: bytes, alg: str) -> Any:
    # Loading an RSA key checks it (tens of milliseconds); a signer uses the same few keys all day.
    return jwk.construct(private_pem, algorithm=alg)


def sign_jwt(claims: Mapping[str, Any], private_pem: bytes, alg: str, kid: str, typ: str = "JWT") -> str:
    if alg not in ALLOWED_ALGORITHMS:
        raise ValueError(f"will not sign with {alg}")
    return jws.sign(dict(claims), _private_key(private_pem, alg), headers={"kid": kid, "typ": typ}, algorithm=alg)


def public_jwk(private_pem: bytes, alg: str, kid: str) -> dict[str, Any]:
    """The public half of a signing key as a JWK for the issuer's JWKS."""
    key = _private_key(private_pem, alg).public_key().to_dict()
    members = {name: key[name] for name in _PUBLIC_MEMBERS[key["kty"]]}
    return {**members, "kid": kid, "alg": alg, "use": "sig"}


def thumbprint(public: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url): a stable kid derived from the key itself."""
    members = {name: public[name] for name in _PUBLIC_MEMBERS[public["kty"]]}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).decode().rstrip("=")
