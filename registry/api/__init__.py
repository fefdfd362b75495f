"""The JSON API under /api/v1 for municipal systems, tools and voters."""
