"""The single exception type of the EML parser."""

from __future__ import annotations


class EmlError(Exception):
    """A bad EML file. The file is refused as a whole.

    ``element`` names the element as a person reading the file would write it:
    with the document's namespace prefix (``kr:NominationDate``), without a prefix
    for the EML namespace (``AffiliationIdentifier``). ``attribute`` is set when the
    problem is in an attribute of that element (``Id``). ``line`` is the line in the
    file (1-based) when known. ``problem`` is a plain Dutch description.

    Note: the Kiesraad writes some files (230b candidate lists) on one single line,
    so ``line`` is then always 1.
    """

    def __init__(
        self,
        problem: str,
        *,
        element: str | None = None,
        line: int | None = None,
        attribute: str | None = None,
        filename: str | None = None,
    ) -> None:
        self.problem = problem
        self.element = element
        self.line = line
        self.attribute = attribute
        self.filename = filename
        super().__init__(problem)

    def __str__(self) -> str:
        parts: list[str] = []
        if self.filename:
            parts.append(self.filename)
        if self.line is not None:
            parts.append(f"regel {self.line}")
        if self.element:
            parts.append(f"element {self.element}")
        parts.append(self.problem)
        return ": ".join(parts)

    def __repr__(self) -> str:
        return (
            f"EmlError(problem={self.problem!r}, element={self.element!r}, "
            f"attribute={self.attribute!r}, line={self.line!r}, filename={self.filename!r})"
        )
