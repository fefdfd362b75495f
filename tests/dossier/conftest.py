"""One signing key and one dossier built from fake rows, shared by the verifier's tests of a module."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.dossier.helpers import make_dossier


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def dossier(key: Ed25519PrivateKey) -> bytes:
    return make_dossier(key)
