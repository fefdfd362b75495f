"""RFC 9162 §2.1: tree heads, audit paths and consistency proofs, against the Certificate Transparency
reference vectors (the eight inputs of RFC 6962's test suite) and an independent, naive implementation
written straight from the RFC's recursive definitions."""

from __future__ import annotations

import hashlib
import random

import pytest

from registry.domain import merkle
from registry.dossier import verify as standalone

# The inputs and tree heads of Certificate Transparency's merkle_tree_test (RFC 6962 test vectors).
CT_INPUTS = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, audit path)
CT_PATHS = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
# (first size, second size, consistency proof)
CT_PROOFS = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CT_LEAVES = [merkle.leaf_hash(bytes.fromhex(data)) for data in CT_INPUTS]

# Both verifiers: the registry's and the standalone verifier's own copy must agree on everything.
VERIFIERS = [(merkle.verify_inclusion, merkle.verify_consistency),
             (standalone.verify_inclusion, standalone.verify_consistency)]


# --- an independent implementation: the RFC's definitions, recursion and all, nothing cached ---------

def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _k(len(leaves))
    return hashlib.sha256(b"\x01" + naive_mth(leaves[:k]) + naive_mth(leaves[k:])).digest()


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) <= 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return [*naive_path(m, leaves[:k]), naive_mth(leaves[k:])]
    return [*naive_path(m - k, leaves[k:]), naive_mth(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [naive_mth(leaves)]
    k = _k(n)
    if m <= k:
        return [*naive_subproof(m, leaves[:k], b), naive_mth(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), naive_mth(leaves[:k])]


def _leaves(n: int, seed: int = 9162) -> list[bytes]:
    rng = random.Random(seed)
    return [merkle.leaf_hash(rng.randbytes(24)) for _ in range(n)]


def _flip(data: bytes, bit: int) -> bytes:
    changed = bytearray(data)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


# --- the reference vectors ----------------------------------------------------------------------------

def test_tree_heads_match_the_rfc_6962_reference_roots():
    tree = merkle.Tree(CT_LEAVES)
    for size, expected in enumerate(CT_ROOTS):
        assert tree.root(size).hex() == expected
        assert naive_mth(CT_LEAVES[:size]).hex() == expected


@pytest.mark.parametrize(("index", "size", "path"), CT_PATHS)
def test_audit_paths_match_the_reference_vectors(index, size, path):
    tree = merkle.Tree(CT_LEAVES)
    assert [h.hex() for h in tree.inclusion_path(index, size)] == path
    root = bytes.fromhex(CT_ROOTS[size])
    for inclusion, _ in VERIFIERS:
        assert inclusion(index, size, CT_LEAVES[index], [bytes.fromhex(h) for h in path], root)
        assert not inclusion(index, size, CT_LEAVES[index], [bytes.fromhex(h) for h in path],
                             bytes.fromhex(CT_ROOTS[0]))


@pytest.mark.parametrize(("first", "second", "proof"), CT_PROOFS)
def test_consistency_proofs_match_the_reference_vectors(first, second, proof):
    tree = merkle.Tree(CT_LEAVES)
    assert [h.hex() for h in tree.consistency_proof(first, second)] == proof
    for _, consistency in VERIFIERS:
        assert consistency(first, second, bytes.fromhex(CT_ROOTS[first]), bytes.fromhex(CT_ROOTS[second]),
                           [bytes.fromhex(h) for h in proof])


# --- against the naive implementation, every shape ----------------------------------------------------

def test_every_path_and_proof_of_every_small_tree_equals_the_naive_one():
    leaves = _leaves(70)
    tree = merkle.Tree(leaves)
    for size in range(0, 71):
        assert tree.root(size) == naive_mth(leaves[:size])
        for index in range(size):
            assert tree.inclusion_path(index, size) == naive_path(index, leaves[:size])
        for first in range(1, size):
            assert tree.consistency_proof(first, size) == naive_subproof(first, leaves[:size], True)


# --- against pymerkle, a maintained third-party implementation -------------------------------------------

def test_roots_paths_and_proofs_agree_with_pymerkle():
    """pymerkle (RFC 9162 with its 0x00/0x01 prefixes on) built from the same entries: the same root for every
    size and the same audit path for every leaf. Its consistency proofs have a shape of their own (other
    subtrees), so they are not compared hash by hash: its verifier accepts every step between our roots and
    refuses the step to the root of our tree with a leaf taken out."""
    pymerkle = pytest.importorskip("pymerkle")  # in the test extra: an error here means a broken install
    rng = random.Random(9162)
    entries = [rng.randbytes(rng.randrange(0, 48)) for _ in range(70)]
    theirs = pymerkle.InmemoryTree(algorithm="sha256")
    for entry in entries:
        theirs.append_entry(entry)
    ours = merkle.Tree([merkle.leaf_hash(entry) for entry in entries])
    for size in range(1, 71):
        assert ours.root(size) == theirs.get_root(size), size
        for index in range(size):  # pymerkle counts leaves from 1 and puts the leaf itself first
            path = theirs.prove_inclusion(index + 1, size).serialize()["path"]
            assert [bytes.fromhex(h) for h in path[1:]] == ours.inclusion_path(index, size), (index, size)
    removed = merkle.Tree([merkle.leaf_hash(entry) for entry in entries[:20] + entries[21:]])
    for first in range(1, 71):
        for second in range(first, 71):
            proof = theirs.prove_consistency(first, second)
            pymerkle.verify_consistency(ours.root(first), ours.root(second), proof)  # raises if not
            if 20 < first < second <= removed.size:
                with pytest.raises(pymerkle.InvalidProof):
                    pymerkle.verify_consistency(ours.root(first), removed.root(second), proof)


def test_consistency_verifies_between_every_pair_and_fails_when_the_history_changed():
    leaves = _leaves(40, seed=1)
    tree = merkle.Tree(leaves)
    roots = [tree.root(n) for n in range(41)]
    removed = merkle.Tree(leaves[:10] + leaves[11:])  # a leaf taken out
    reordered = merkle.Tree([*leaves[:10], leaves[11], leaves[10], *leaves[12:]])  # two leaves swapped
    for _, consistency in VERIFIERS:
        for first in range(41):
            for second in range(first, 41):
                proof = tree.consistency_proof(first, second)
                assert consistency(first, second, roots[first], roots[second], proof), (first, second)
                if first >= 12 and second > first:
                    # the published first head against a second tree that lost or moved a leaf
                    for other in (removed, reordered):
                        if second <= other.size:
                            assert not consistency(first, second, roots[first], other.root(second),
                                                   other.consistency_proof(first, second))
                            assert not consistency(first, second, roots[first], other.root(second), proof)
        # nor does a proof stretch to sizes it was not made for
        assert not consistency(3, 7, roots[3], roots[7], tree.consistency_proof(3, 8))
        assert not consistency(0, 0, roots[0], roots[1], [])
        assert not consistency(5, 4, roots[5], roots[4], [])


# --- 10,000 leaves: every leaf verifies; any changed bit fails -----------------------------------------

def test_every_leaf_of_a_10000_leaf_log_verifies_and_any_changed_bit_fails():
    size = 10_000
    leaves = _leaves(size, seed=17)
    tree = merkle.Tree(leaves)
    root = tree.root()
    assert root == naive_mth(leaves)
    rng = random.Random(10_000)
    sample = set(rng.sample(range(size), 40)) | {0, 1, size // 2, size - 2, size - 1, 8191, 8192}
    for index in range(size):
        path = tree.inclusion_path(index)
        assert len(path) <= 14
        assert merkle.verify_inclusion(index, size, leaves[index], path, root), index
        if index not in sample:
            continue
        for inclusion, _ in VERIFIERS:
            assert inclusion(index, size, leaves[index], path, root)
            # a bit of the leaf, of the root, of one path entry; the neighbour's index; a path cut or padded
            # (the size is bound by the signed head that carries the root, not by the path)
            bit = rng.randrange(256)
            assert not inclusion(index, size, _flip(leaves[index], bit), path, root)
            assert not inclusion(index, size, leaves[index], path, _flip(root, bit))
            entry = rng.randrange(len(path))
            assert not inclusion(index, size, leaves[index],
                                 [*path[:entry], _flip(path[entry], bit), *path[entry + 1:]], root)
            assert not inclusion(index ^ 1, size, leaves[index], path, root)
            assert not inclusion(index, size, leaves[index], path[:-1], root)
            assert not inclusion(index, size, leaves[index], [*path, path[-1]], root)
    # every bit of every hash of one proof
    index = 4321
    path = tree.inclusion_path(index)
    for bit in range(256):
        assert not merkle.verify_inclusion(index, size, _flip(leaves[index], bit), path, root)
        assert not merkle.verify_inclusion(index, size, leaves[index], path, _flip(root, bit))
        for entry in range(len(path)):
            changed = [*path[:entry], _flip(path[entry], bit), *path[entry + 1:]]
            assert not merkle.verify_inclusion(index, size, leaves[index], changed, root)


def test_proofs_outside_the_tree_are_refused():
    tree = merkle.Tree(_leaves(5))
    with pytest.raises(merkle.ProofError):
        tree.inclusion_path(5)
    with pytest.raises(merkle.ProofError):
        tree.consistency_proof(6)
    with pytest.raises(merkle.ProofError):
        tree.root(6)
    assert not merkle.verify_inclusion(0, 0, CT_LEAVES[0], [], merkle.EMPTY_ROOT)


def test_a_tree_extended_leaf_by_leaf_is_the_tree_built_at_once():
    """The sealer's tree grows in place (only the nodes the new leaves complete are hashed); at every size
    it has the same heads and proofs as a tree built from those leaves at once."""
    leaves = [merkle.leaf_hash(str(i).encode()) for i in range(70)]
    grown = merkle.Tree([])
    for start, end in ((0, 1), (1, 2), (2, 7), (7, 8), (8, 33), (33, 64), (64, 70)):
        grown.extend(leaves[start:end])
        whole = merkle.Tree(leaves[:end])
        assert grown.levels == whole.levels
        for size in range(1, end + 1):
            assert grown.root(size) == whole.root(size) == naive_mth(leaves[:size])
