"""Declarations (ondersteuningsverklaringen) and the one path that records them."""
