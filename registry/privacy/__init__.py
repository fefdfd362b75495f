"""Pseudonyms, encryption and log masking: the BSN is never stored or logged in plaintext."""
