"""The online channel: a voter declares from home after DigiD, and sees their own declaration.

    registry.online.routes.online   # the blueprint; registry.routes registers it
"""

from __future__ import annotations
