"""A person register read from a JSON file shaped like the v2 answer: {"personen": [...]}."""

from __future__ import annotations

import json
import os
from pathlib import Path

from stdnum.nl import bsn as _stdnum_bsn

from .model import Person
from .v2 import person_from_v2


class FixturePersonRegistry:
    """Loads the file once and indexes it by BSN. For development, tests and the demo.

    A bad file raises ValueError naming the file and the problem (which entry, which field).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._persons: dict[str, Person] = {}
        for index, obj in enumerate(_load_entries(self.path)):
            where = f"BRP fixture {self.path}: personen[{index}]"
            try:
                person = person_from_v2(obj)
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
            if not _stdnum_bsn.is_valid(person.bsn):
                raise ValueError(f"{where}: burgerservicenummer fails the 11-proof")
            if person.bsn in self._persons:
                raise ValueError(f"{where}: burgerservicenummer occurs twice")
            self._persons[person.bsn] = person

    def lookup(self, bsn: str) -> Person | None:
        return self._persons.get(bsn)

    def all_bsns(self) -> list[str]:
        """Every BSN in file order (for the demo and the mock login page)."""
        return list(self._persons)

    def persons(self) -> list[Person]:
        return list(self._persons.values())


def _load_entries(path: Path) -> list[object]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"BRP fixture {path}: cannot read the file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ValueError(f"BRP fixture {path}: not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"BRP fixture {path}: not valid JSON (line {exc.lineno}, col {exc.colno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("personen"), list):
        raise ValueError(f'BRP fixture {path}: expected an object with a "personen" list')
    return data["personen"]
