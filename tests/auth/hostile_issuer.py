"""A hostile OpenID Connect issuer on 127.0.0.1, for testing that the relying party trusts nothing.

It is a correct, small issuer (discovery, JWKS, authorize, token with PKCE S256, userinfo) until told
to misbehave through ``issuer.behaviour``: sign with ``none`` or HS256-with-the-public-key, break the
signature, drop or change claims, send another ``sub`` from userinfo, name another issuer in its
discovery document, rotate keys, replay an earlier ID token. Tokens are built here with
``cryptography`` directly, independent of the app's own JWT code.

The server is real HTTP (werkzeug ``make_server`` in a thread), so the app reaches it through its
urllib fetcher exactly as it would reach a real broker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from flask import Flask, jsonify, redirect, request
from werkzeug.serving import make_server

CLIENT_ID = "steunregister"
CLIENT_SECRET = "hostile-test-secret"
SUBJECT = "hostile-user-1"
REMOVE = object()  # a claim override that deletes the claim


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _int_b64(value: int, length: int | None = None) -> str:
    length = length or (value.bit_length() + 7) // 8
    return b64url(value.to_bytes(length, "big"))


@dataclass
class Key:
    name: str
    alg_family: str  # RSA | EC
    private: Any
    kid: str

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)

    def jwk(self) -> dict[str, Any]:
        numbers = self.private.public_key().public_numbers()
        if self.alg_family == "RSA":
            return {"kty": "RSA", "kid": self.kid, "use": "sig", "n": _int_b64(numbers.n), "e": _int_b64(numbers.e)}
        return {"kty": "EC", "kid": self.kid, "use": "sig", "crv": "P-256",
                "x": _int_b64(numbers.x, 32), "y": _int_b64(numbers.y, 32)}


@dataclass
class Behaviour:
    alg: str = "RS256"  # RS256 | PS256 | ES256 | none | HS256-public-key
    signing_key: str = "rsa1"
    published: list[str] = field(default_factory=lambda: ["rsa1", "ec1"])
    omit_kid: bool = False
    kid: str | None = None  # a kid other than the signing key's own
    tamper_signature: bool = False
    claims: dict[str, Any] = field(default_factory=dict)  # overrides; REMOVE deletes
    userinfo_sub: str | None = None
    discovery_issuer: str | None = None
    replay_id_token: str | None = None


class HostileIssuer:
    def __init__(self, bsn: str) -> None:
        self.bsn = bsn
        self.keys = {
            "rsa1": Key("rsa1", "RSA", rsa.generate_private_key(public_exponent=65537, key_size=2048), "rsa-1"),
            "rsa2": Key("rsa2", "RSA", rsa.generate_private_key(public_exponent=65537, key_size=2048), "rsa-2"),
            "ec1": Key("ec1", "EC", ec.generate_private_key(ec.SECP256R1()), "ec-1"),
        }
        self.behaviour = Behaviour()
        self.hits: Counter[str] = Counter()
        self.grants: dict[str, dict[str, Any]] = {}
        self.issued_id_tokens: list[str] = []
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.app = self._build_app()

    # --- lifecycle ---
    def start(self) -> HostileIssuer:
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def reset(self) -> None:
        self.behaviour = Behaviour()
        self.hits.clear()
        self.grants.clear()
        self.issued_id_tokens.clear()

    # --- the browser's leg, over real HTTP ---
    def approve(self, authorize_url: str) -> str:
        """GET the authorize URL like a browser whose user consents; returns the callback URL."""
        assert authorize_url.startswith(self.issuer + "/authorize?"), authorize_url

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(authorize_url, timeout=5)
        except urllib.error.HTTPError as exc:
            assert exc.code == 302, exc.code
            return exc.headers["Location"]
        raise AssertionError("the hostile issuer did not redirect")

    # --- tokens ---
    def sign(self, claims: dict[str, Any]) -> str:
        b = self.behaviour
        alg = "HS256" if b.alg == "HS256-public-key" else b.alg
        key = self.keys[b.signing_key]
        header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
        if not b.omit_kid and b.alg != "none":
            header["kid"] = b.kid or key.kid
        signing_input = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
        if b.alg == "none":
            signature = b""
        elif b.alg == "HS256-public-key":
            # The classic confusion attack: HMAC keyed with the provider's *public* key.
            signature = hmac.new(key.public_pem(), signing_input, hashlib.sha256).digest()
        elif b.alg == "RS256":
            signature = key.private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        elif b.alg == "PS256":
            signature = key.private.sign(signing_input, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                                    salt_length=32), hashes.SHA256())
        elif b.alg == "ES256":
            r, s = decode_dss_signature(key.private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        else:
            raise ValueError(b.alg)
        if b.tamper_signature:
            signature = bytes([signature[0] ^ 0x01]) + signature[1:]
        return signing_input.decode() + "." + b64url(signature)

    def id_token_claims(self, grant: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.issuer, "sub": SUBJECT, "aud": grant["client_id"], "iat": now,
                                  "exp": now + 300, "acr": "substantieel", "bsn": self.bsn}
        if grant.get("nonce"):
            claims["nonce"] = grant["nonce"]
        for name, value in self.behaviour.claims.items():
            if value is REMOVE:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    # --- the issuer ---
    def _build_app(self) -> Flask:
        app = Flask("hostile_issuer")
        issuer = self

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Any:
            issuer.hits["discovery"] += 1
            base = issuer.issuer
            return jsonify({
                "issuer": issuer.behaviour.discovery_issuer or base,
                "authorization_endpoint": base + "/authorize", "token_endpoint": base + "/token",
                "userinfo_endpoint": base + "/userinfo", "jwks_uri": base + "/jwks",
                "end_session_endpoint": base + "/logout",
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            })

        @app.get("/jwks")
        def jwks() -> Any:
            issuer.hits["jwks"] += 1
            return jsonify({"keys": [issuer.keys[name].jwk() for name in issuer.behaviour.published]})

        @app.get("/authorize")
        def authorize() -> Any:
            issuer.hits["authorize"] += 1
            args = request.args
            code = secrets.token_urlsafe(24)
            issuer.grants[code] = {"client_id": args["client_id"], "redirect_uri": args["redirect_uri"],
                                   "challenge": args["code_challenge"], "method": args.get("code_challenge_method"),
                                   "nonce": args.get("nonce"), "state": args.get("state")}
            return redirect(args["redirect_uri"] + "?" + urlencode({"code": code, "state": args.get("state", "")}))

        @app.post("/token")
        def token() -> Any:
            issuer.hits["token"] += 1
            auth = request.authorization
            if auth is None or auth.username != CLIENT_ID or auth.password != CLIENT_SECRET:
                return jsonify(error="invalid_client"), 401
            grant = issuer.grants.pop(request.form.get("code", ""), None)
            if grant is None or grant["redirect_uri"] != request.form.get("redirect_uri"):
                return jsonify(error="invalid_grant", error_description="unknown code"), 400
            verifier = request.form.get("code_verifier", "")
            if grant["method"] != "S256" or b64url(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
                return jsonify(error="invalid_grant", error_description="PKCE verification failed"), 400
            id_token = issuer.behaviour.replay_id_token or issuer.sign(issuer.id_token_claims(grant))
            issuer.issued_id_tokens.append(id_token)
            return jsonify(access_token="opaque-" + secrets.token_urlsafe(16), token_type="Bearer",
                           expires_in=300, id_token=id_token)

        @app.get("/userinfo")
        def userinfo() -> Any:
            issuer.hits["userinfo"] += 1
            if not request.headers.get("Authorization", "").startswith("Bearer opaque-"):
                return jsonify(error="invalid_token"), 401
            return jsonify(sub=issuer.behaviour.userinfo_sub or SUBJECT, bsn=issuer.bsn)

        @app.get("/logout")
        def logout() -> Any:
            issuer.hits["logout"] += 1
            return redirect(request.args["post_logout_redirect_uri"])

        return app
