"""Merkle trees as RFC 9162 §2.1 defines them (the Certificate Transparency shape), SHA-256.

    MTH({})    = SHA-256()
    MTH({d0})  = SHA-256(0x00 || d0)                                  leaf_hash
    MTH(D[n])  = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))          node_hash, k the largest power of 2 < n

The functions here take *leaf hashes* (the log stores those, never the records). ``Tree`` answers
the tree head, the audit path PATH(m, D[n]) (§2.1.3.1) and the consistency proof PROOF(m, D[n])
(§2.1.4.1) for any size up to its own, from complete subtrees it computes once: a proof costs
O(log² n) hashes, so every proof of a 10,000-leaf log is cheap. ``verify_inclusion`` and
``verify_consistency`` are the verification algorithms of §2.1.3.2 and §2.1.4.2, step by step.

Flask-free and database-free; registry/dossier/verify.py carries its own copy of the two verifiers
(it must run alone) and static/js/log-proof.js the inclusion verifier for the browser.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof asked for that does not exist (an index or size outside the tree)."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """k: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class Tree:
    """A read-only Merkle tree over ``leaves`` (leaf hashes, in log order).

    ``levels[j][i]`` is the hash of the complete subtree of 2**j leaves starting at leaf i * 2**j; every
    subtree the RFC's recursion needs is one of those, or is split further until it is."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.levels: list[list[bytes]] = [[]]
        self.extend(leaves)

    def extend(self, leaves: Sequence[bytes]) -> None:
        """Append leaves. A complete subtree never changes, so only the nodes the new leaves complete are
        hashed: a log that grows by n leaves costs n hashes, not the whole tree again (the sealer's round)."""
        self.levels[0].extend(leaves)
        level = 0
        while len(self.levels[level]) > 1:
            below = self.levels[level]
            if len(self.levels) == level + 1:
                self.levels.append([])
            above = self.levels[level + 1]
            above.extend(node_hash(below[i], below[i + 1]) for i in range(2 * len(above), len(below) - 1, 2))
            level += 1

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def subtree_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) where ``start`` is a multiple of the largest power of two <= end - start
        (true of every subtree the RFC's recursion visits)."""
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0:  # complete: stored
            level = n.bit_length() - 1
            return self.levels[level][start >> level]
        k = split_point(n)
        return node_hash(self.subtree_hash(start, start + k), self.subtree_hash(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        self._check_size(size)
        return self.subtree_hash(0, size)

    def inclusion_path(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]) (RFC 9162 §2.1.3.1), nearest the leaf first."""
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ProofError(f"leaf {index} is not in a tree of {size}")
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = split_point(end - start)
            if index < start + k:
                path.append(self.subtree_hash(start + k, end))
                end = start + k
            else:
                path.append(self.subtree_hash(start, start + k))
                start += k
        path.reverse()
        return path

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """PROOF(first, D[second]) (RFC 9162 §2.1.4.1)."""
        second = self.size if second is None else second
        self._check_size(second)
        if not 0 <= first <= second:
            raise ProofError(f"no consistency proof from {first} to {second}")
        if first == 0 or first == second:
            return []
        return self._subproof(first, 0, second, True)

    def _subproof(self, m: int, start: int, end: int, complete: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if complete else [self.subtree_hash(start, end)]
        k = split_point(n)
        if m <= k:
            return [*self._subproof(m, start, start + k, complete), self.subtree_hash(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self.subtree_hash(start, start + k)]

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ProofError(f"the tree has {self.size} leaves, not {size}")


def root(leaves: Sequence[bytes]) -> bytes:
    return Tree(leaves).root()


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root_hash: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``path`` prove that ``leaf`` is leaf ``index`` of the tree of ``size``
    leaves whose root is ``root_hash``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of ``second`` leaves (``second_root``) an extension of the tree of
    ``first`` leaves (``first_root``)? Equal sizes need equal roots and an empty proof; the empty tree
    is a prefix of every tree."""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
