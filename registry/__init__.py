"""Steunregister: the registry of ondersteuningsverklaringen (Kieswet art. H 4)."""
