"""The per-election transparency log of declarations (RFC 9162 shape): leaves, signed tree heads, proofs.

See docs/transparency.md. The tree itself is registry/domain/merkle.py; this package stores and seals it.
"""
