"""The party pages: a party agent registers lists (EML 210 or a form) and follows their progress.

    registry.party.routes.party   # the blueprint; registry.routes registers it
"""

from __future__ import annotations
