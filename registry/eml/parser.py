"""Recognise, validate and read EML_NL 110a, 210 and 230b files.

Order of work for one file:

1. parse the bytes with lxml, securely (no entity expansion, no DTD loading, no
   network, no huge trees) and refuse any DOCTYPE;
2. check the root is ``EML`` in the EML namespace and read the message kind
   from ``EML/@Id`` (110a, 210 or 230b; anything else is refused);
3. validate against the matching ``*-kiesraad-strict.xsd`` (schemas are loaded
   once, lazily, offline; see ``schema.py``); the first XSD error is reported;
4. read the data and do the checks the XSD cannot express (dates, references
   between regions, duplicate numbers, ...).

Every problem raises ``EmlError``; the file is then refused as a whole.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date

from lxml import etree

from .errors import EmlError
from .model import (
    GEMEENTE,
    KIESKRING,
    Affiliation,
    Candidate,
    CandidateLists,
    ElectionDefinition,
    ElectionRef,
    Region,
)
from .schema import EML_NS, KR_NS, XAL_NS, XNL_NS, display_name, get_schema, schema_error

SUPPORTED_KINDS = {
    "110a": "verkiezingsdefinitie",
    "210": "kandidaatstelling",
    "230b": "kandidatenlijsten",
}

_NS = {"eml": EML_NS, "kr": KR_NS, "xnl": XNL_NS, "xal": XAL_NS}
_CONTEST_ID_RE = re.compile(r"[1-9]\d*|geen|alle")
_POSITIVE_RE = re.compile(r"[1-9]\d*")
# xs:date: optional minus sign, year of 4+ digits, optional time zone.
_XS_DATE_RE = re.compile(r"(-?\d{4,})-(\d{2})-(\d{2})(?:Z|[+-]\d{2}:\d{2})?")


def _e(local: str) -> str:
    return f"{{{EML_NS}}}{local}"


def _kr(local: str) -> str:
    return f"{{{KR_NS}}}{local}"


def _xnl(local: str) -> str:
    return f"{{{XNL_NS}}}{local}"


# ------------------------------------------------------------------ public API


def sha256_fingerprint(data: bytes) -> str:
    """SHA-256 of ``data`` as 16 groups of 4 lowercase hex digits, single spaces between."""
    digest = hashlib.sha256(bytes(data)).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def parse_eml(data: bytes, filename: str = "<bestand>") -> ElectionDefinition | CandidateLists:
    """Read one EML_NL file (110a, 210 or 230b) or raise ``EmlError``.

    ``filename`` is only used in the error text.
    """
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError("parse_eml verwacht bytes (de inhoud van het bestand)")
    try:
        return _parse(data)
    except EmlError as exc:
        exc.filename = filename
        raise


# ------------------------------------------------------------------ XML level


def _parse(data: bytes) -> ElectionDefinition | CandidateLists:
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise EmlError("het bestand is leeg; verwacht een EML-document", element="EML")
    # Refuse a DOCTYPE before libxml2 sees it (entity bombs, external entities).
    # Checked again on the parsed tree below, for encodings not listed here.
    for marker in _DOCTYPE_MARKERS:
        if marker in data:
            raise _doctype_error(data, marker)
    root = _parse_xml(data)

    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise _doctype_error(data, b"<!DOCTYPE")

    if root.tag != _e("EML"):
        shown = display_name(root.tag, root.nsmap) if isinstance(root.tag, str) else "?"
        ns = etree.QName(root).namespace if isinstance(root.tag, str) else None
        detail = f"het hoofdelement is {shown}" + (f" (namespace {ns})" if ns else " (zonder namespace)")
        raise EmlError(
            f"het bestand is geen EML-document: {detail}; verwacht EML in namespace {EML_NS}",
            element="EML",
            line=root.sourceline,
        )

    kind = root.get("Id")
    if kind is None:
        raise EmlError(
            "het verplichte attribuut Id (de berichtsoort) ontbreekt",
            element="EML",
            attribute="Id",
            line=root.sourceline,
        )
    if kind not in SUPPORTED_KINDS:
        supported = ", ".join(f"{k} ({v})" for k, v in SUPPORTED_KINDS.items())
        raise EmlError(
            f"attribuut Id: berichtsoort '{kind}' wordt niet ondersteund; ondersteund zijn {supported}",
            element="EML",
            attribute="Id",
            line=root.sourceline,
        )

    entry = get_schema(kind).first_error(tree)
    if entry is not None:
        raise schema_error(entry, root.nsmap)

    if kind == "110a":
        return _read_110a(root)
    return _read_candidate_lists(root, kind)


#: "<!DOCTYPE" as bytes in the encodings an XML file may have -> "\n" in that encoding.
_DOCTYPE_MARKERS: dict[bytes, bytes] = {
    "<!DOCTYPE".encode(encoding): "\n".encode(encoding)
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
}


def _doctype_error(data: bytes, marker: bytes) -> EmlError:
    idx = data.find(marker)
    newline = _DOCTYPE_MARKERS.get(marker, b"\n")
    line = data.count(newline, 0, idx) + 1 if idx >= 0 else None
    return EmlError(
        "het bestand bevat een DOCTYPE-declaratie (met mogelijk entiteiten); "
        "dat is om veiligheidsredenen niet toegestaan in een EML-bestand",
        element="DOCTYPE",
        line=line,
    )


_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
}


def _secure_parser() -> etree.XMLParser:
    return etree.XMLParser(**_PARSER_OPTIONS)


#: Bytes handed to libxml2 at a time: the open-element stack is read between
#: pieces, so it is exact up to the piece in which an error is found.
_FEED_PIECE = 1 << 16


def _parse_xml(data: bytes) -> etree._Element:
    """Parse ``data`` into a tree, or raise ``EmlError`` naming where the XML breaks.

    One pass with lxml's pull parser: its start/end events keep the stack of open
    elements, so an error names the element (and its line) from the parser's own
    events and the error's code, never from libxml2's message text, whose wording
    changes between libxml2 versions (2.14 reworded and reordered its errors).

    A piece that fails while being fed breaks the XML somewhere in the file; the events
    up to the failure are read, then nothing more. A failure only at ``close()`` means
    the file stopped too early: the stack as the last piece left it is where it stops.
    Events that libxml2 produces after an error (2.14 closes the open elements while it
    gives up) are never read.
    """
    pull = etree.XMLPullParser(events=("start", "end"), **_PARSER_OPTIONS)
    stack: list[etree._Element] = []

    def follow() -> None:
        for event, element in pull.read_events():
            if event == "start":
                stack.append(element)
            elif stack:
                stack.pop()

    for offset in range(0, len(data), _FEED_PIECE):
        try:
            pull.feed(data[offset : offset + _FEED_PIECE])
        except etree.XMLSyntaxError as exc:
            follow()  # the events before the failure, within the failing piece
            raise _syntax_error(exc, stack) from None
        follow()
    try:
        return pull.close()
    except etree.XMLSyntaxError as exc:
        # At close libxml2 reports both a file that stops too early and errors the push
        # parser only noted (an undefined entity, a namespace prefix). A one-shot parse
        # of the same bytes says which: a cut-off file fails at its very end.
        real = _one_shot_error(data) or exc
        if _fails_at_the_end(real, data):
            raise _truncation_error(real, stack) from None
        raise _syntax_error(real, stack) from None


def _one_shot_error(data: bytes) -> etree.XMLSyntaxError | None:
    try:
        etree.fromstring(data, _secure_parser())
    except etree.XMLSyntaxError as exc:
        return exc
    return None


#: How far before the last character of the data an error may be and still be "at the
#: end": libxml2 points at the cut or up to two characters before it.
_END_SLACK = 3


def _fails_at_the_end(exc: etree.XMLSyntaxError, data: bytes) -> bool:
    line, column = exc.position if exc.position else (0, 0)
    if not line:
        return True  # no position at all: nothing better to say than that it stops
    last_line_start = data.rfind(b"\n") + 1
    if line != data.count(b"\n", 0, last_line_start) + 1:
        return False
    last_line = data[last_line_start:].decode("utf-8", "ignore")
    return column >= len(last_line) - _END_SLACK


def _where(stack: list[etree._Element]) -> tuple[str | None, int | None]:
    """The innermost open element, as written in the file, and the line it starts on."""
    if not stack:
        return None, None
    element = stack[-1]
    line = element.sourceline if element.sourceline and element.sourceline > 0 else None
    return _name(element), line


_E = etree.ErrorTypes
#: libxml2 error code -> the problem in Dutch. Codes are libxml2's stable enum
#: (xmlParserErrors); ``{element}`` is the innermost open element from the events.
_SYNTAX_PROBLEMS: dict[int, str] = {
    _E.ERR_DOCUMENT_EMPTY: "het bestand is geen XML (geen begintag '<' gevonden)",
    _E.ERR_DOCUMENT_END: "er staat nog inhoud na het einde van het document",
    _E.ERR_TAG_NAME_MISMATCH: "de eindtag past niet bij de begintag van element {element}",
    _E.ERR_TAG_NOT_FINISHED: "element {element} is niet afgesloten",
    _E.ERR_GT_REQUIRED: "een begintag is niet afgesloten met '>'",
    _E.ERR_LTSLASH_REQUIRED: "een eindtag ontbreekt",
    _E.ERR_NAME_REQUIRED: "een tag heeft geen geldige naam (een losse '<' in de tekst?)",
    _E.ERR_UNDECLARED_ENTITY: "er staat een entiteit ('&…;') in die niet gedefinieerd is",
    _E.ERR_ENTITYREF_SEMICOL_MISSING: "een '&' staat niet aan het begin van een entiteit (schrijf '&amp;')",
    _E.NS_ERR_UNDEFINED_NAMESPACE: "een namespace-prefix is niet gedefinieerd",
    _E.ERR_ATTRIBUTE_WITHOUT_VALUE: "een attribuut heeft geen waarde",
    _E.ERR_ATTRIBUTE_REDEFINED: "een attribuut staat er twee keer",
    _E.ERR_ATTRIBUTE_NOT_STARTED: "een attribuutwaarde staat niet tussen aanhalingstekens",
    _E.ERR_ATTRIBUTE_NOT_FINISHED: "een attribuutwaarde is niet afgesloten",
    _E.ERR_SPACE_REQUIRED: "de attributen van een tag zijn onleesbaar (een spatie ontbreekt)",
    _E.ERR_COMMENT_NOT_FINISHED: "commentaar ('<!--') is niet afgesloten",
    _E.ERR_CDATA_NOT_FINISHED: "een CDATA-blok is niet afgesloten",
    _E.ERR_ENTITY_LOOP: "het bestand gebruikt entiteiten die te veel tekst opleveren; dat is niet toegestaan",
    _E.ERR_INVALID_CHAR: "het bestand bevat ongeldige tekens of heeft een verkeerde tekencodering",
    _E.ERR_INVALID_ENCODING: "het bestand bevat ongeldige tekens of heeft een verkeerde tekencodering",
    _E.ERR_UNSUPPORTED_ENCODING: "het bestand bevat ongeldige tekens of heeft een verkeerde tekencodering",
    _E.ERR_INVALID_CHARREF: "het bestand bevat ongeldige tekens of heeft een verkeerde tekencodering",
}
for _name_of_code in ("ERR_RESOURCE_LIMIT", "ERR_ENTITY_AMPLIFICATION"):  # not in every lxml
    if hasattr(_E, _name_of_code):
        _SYNTAX_PROBLEMS[getattr(_E, _name_of_code)] = _SYNTAX_PROBLEMS[_E.ERR_ENTITY_LOOP]


def _describe(exc: etree.XMLSyntaxError, element: str | None) -> str:
    template = _SYNTAX_PROBLEMS.get(exc.code)
    if template is None:
        # A code without a Dutch text: keep libxml2's own words, after our prefix.
        message = re.sub(r", line \d+, column \d+$", "", (exc.msg or "").strip())
        return f"libxml2 meldt: {message}"
    return template.format(element=element or "EML")


def _syntax_error(exc: etree.XMLSyntaxError, stack: list[etree._Element]) -> EmlError:
    """A file that is not well-formed XML somewhere in the middle (or at all).

    The element named is the innermost element open at the error ('EML' when the
    error is outside any element, e.g. the file is no XML at all).
    """
    element, element_line = _where(stack)
    line = exc.lineno if exc.lineno and exc.lineno > 0 else element_line
    return EmlError(f"geen geldige XML: {_describe(exc, element)}", element=element or "EML", line=line)


def _truncation_error(exc: etree.XMLSyntaxError, stack: list[etree._Element]) -> EmlError:
    """A file that stops before its XML is complete: cut off or incomplete.

    The element named is the innermost element still open where the file stops.
    """
    element, element_line = _where(stack)
    line = exc.lineno if exc.lineno and exc.lineno > 0 else element_line
    where = f" binnen element {element}" if element else ""
    return EmlError(
        f"geen geldige XML: het bestand houdt onverwacht op{where}; het is afgebroken of onvolledig",
        element=element or "EML",
        line=line,
    )


# ------------------------------------------------------------------ helpers


def _name(el: etree._Element) -> str:
    return display_name(el.tag, el.nsmap)


def _name_for(clark: str, context: etree._Element) -> str:
    return display_name(clark, context.nsmap)


def _text(el: etree._Element | None) -> str | None:
    """Element text with whitespace collapsed; None when absent or empty."""
    if el is None:
        return None
    text = " ".join("".join(el.itertext()).split())
    return text or None


def _date(el: etree._Element) -> date:
    raw = "".join(el.itertext()).strip()
    m = _XS_DATE_RE.fullmatch(raw)
    try:
        if not m:
            raise ValueError(raw)
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise EmlError(f"is geen geldige datum: '{raw}'", element=_name(el), line=el.sourceline) from None


def _int_attr(el: etree._Element, attr: str) -> int | None:
    raw = el.get(attr)
    if raw is None:
        return None
    try:
        return int(raw.strip())
    except ValueError:
        raise EmlError(
            f"attribuut {attr} is geen geheel getal: '{raw}'",
            element=_name(el),
            attribute=attr,
            line=el.sourceline,
        ) from None


def _election_ref(ei: etree._Element) -> ElectionRef:
    """The ElectionIdentifier, with the checks the XSD's 'choice' cannot make.

    The EML_NL schemas put kr:ElectionSubcategory, kr:ElectionDomain,
    kr:ElectionDate and kr:NominationDate in a repeatable xs:choice, so an XSD
    accepts a missing NominationDate or two ElectionDates. Here each may occur
    at most once and both dates are required.
    """
    found: dict[str, etree._Element | None] = {}
    for local in ("ElectionSubcategory", "ElectionDomain", "ElectionDate", "NominationDate"):
        els = ei.findall(_kr(local))
        if len(els) > 1:
            raise EmlError(
                f"komt meer dan een keer voor in ElectionIdentifier (ook op regel {els[0].sourceline})",
                element=_name(els[1]),
                line=els[1].sourceline,
            )
        found[local] = els[0] if els else None
    for local in ("ElectionDate", "NominationDate"):
        if found[local] is None:
            raise EmlError(
                "ontbreekt (verplicht in ElectionIdentifier)",
                element=_name_for(_kr(local), ei),
                line=ei.sourceline,
            )
    election_el = found["ElectionDate"]
    nomination_el = found["NominationDate"]
    assert election_el is not None and nomination_el is not None
    election_date = _date(election_el)
    nomination_date = _date(nomination_el)
    if nomination_date >= election_date:
        raise EmlError(
            f"de dag van kandidaatstelling ({nomination_date.isoformat()}) ligt niet vóór "
            f"de verkiezingsdag ({election_date.isoformat()})",
            element=_name(nomination_el),
            line=nomination_el.sourceline,
        )
    domain = found["ElectionDomain"]
    category = _text(ei.find(_e("ElectionCategory")))
    assert category is not None  # required by every schema
    return ElectionRef(
        identifier=(ei.get("Id") or "").strip(),
        name=_text(ei.find(_e("ElectionName"))),
        category=category,
        subcategory=_text(found["ElectionSubcategory"]),
        domain_id=domain.get("Id") if domain is not None else None,
        domain_name=_text(domain),
        election_date=election_date,
        nomination_date=nomination_date,
    )


def _contest_id(ci: etree._Element) -> str:
    raw = ci.get("Id")
    if raw is None:  # required by the XSD; kept for safety
        raise EmlError(
            "het verplichte attribuut Id ontbreekt", element=_name(ci), attribute="Id", line=ci.sourceline
        )
    value = raw.strip()
    if not _CONTEST_ID_RE.fullmatch(value):
        # The XSD (kr:ContestIdType) also admits Roman numerals; those are not supported here.
        raise EmlError(
            f"attribuut Id is geen kieskringnummer en ook niet 'geen' of 'alle': '{raw}' "
            "(kieskringnummers in Romeinse cijfers worden niet ondersteund)",
            element=_name(ci),
            attribute="Id",
            line=ci.sourceline,
        )
    return value


# ------------------------------------------------------------------ 110a


def _read_110a(root: etree._Element) -> ElectionDefinition:
    election = root.find("eml:ElectionEvent/eml:Election", _NS)
    assert election is not None  # XSD
    ei = election.find("eml:ElectionIdentifier", _NS)
    assert ei is not None
    ref = _election_ref(ei)
    name = ref.name
    assert name is not None  # ElectionName is required in 110a
    contest_identifier = election.find("eml:Contest/eml:ContestIdentifier", _NS)
    if contest_identifier is not None:
        _contest_id(contest_identifier)

    seats = _text(election.find("kr:NumberOfSeats", _NS))  # xs:positiveInteger per XSD
    number_of_seats = int(seats) if seats else None

    regions = _read_regions(election.findall("kr:ElectionTree/kr:Region", _NS))

    parties = tuple(
        t
        for t in (
            _text(el)
            for el in election.iterfind(
                "kr:RegisteredParties/kr:RegisteredParty/kr:RegisteredAppellation", _NS
            )
        )
        if t
    )
    return ElectionDefinition(
        identifier=ref.identifier,
        name=name,
        category=ref.category,
        subcategory=ref.subcategory,
        domain_id=ref.domain_id,
        domain_name=ref.domain_name,
        election_date=ref.election_date,
        nomination_date=ref.nomination_date,
        number_of_seats=number_of_seats,
        regions=regions,
        registered_parties=parties,
    )


def _read_regions(elements: list[etree._Element]) -> tuple[Region, ...]:
    regions: list[Region] = []
    seen: dict[tuple[str, int], int | None] = {}
    for el in elements:
        category = (el.get("RegionCategory") or "").strip()
        number = _int_attr(el, "RegionNumber")
        if category in (KIESKRING, GEMEENTE):
            if number is None:
                raise EmlError(
                    f"attribuut RegionNumber ontbreekt (verplicht voor een {category})",
                    element=_name(el),
                    attribute="RegionNumber",
                    line=el.sourceline,
                )
            if number < 1:
                raise EmlError(
                    f"attribuut RegionNumber moet een positief getal zijn voor een {category}: {number}",
                    element=_name(el),
                    attribute="RegionNumber",
                    line=el.sourceline,
                )
        if number is not None:
            key = (category, number)
            if key in seen:
                raise EmlError(
                    f"attribuut RegionNumber: {category} {number} komt al eerder voor (regel {seen[key]})",
                    element=_name(el),
                    attribute="RegionNumber",
                    line=el.sourceline,
                )
            seen[key] = el.sourceline
        superior_category = el.get("SuperiorRegionCategory")
        regions.append(
            Region(
                number=number,
                category=category,
                name=_text(el.find(_kr("RegionName"))) or "",
                superior_number=_int_attr(el, "SuperiorRegionNumber"),
                superior_category=superior_category.strip() if superior_category else None,
            )
        )

    categories = {r.category for r in regions}
    has_kieskring = KIESKRING in categories
    for region, el in zip(regions, elements, strict=True):
        label = f"{region.category} {region.number}" if region.number is not None else region.category
        if region.superior_number is not None:
            if region.superior_category is None:
                raise EmlError(
                    f"{label} heeft een SuperiorRegionNumber ({region.superior_number}) maar geen "
                    "SuperiorRegionCategory",
                    element=_name(el),
                    attribute="SuperiorRegionCategory",
                    line=el.sourceline,
                )
            if (region.superior_category, region.superior_number) not in seen:
                raise EmlError(
                    f"{label} verwijst naar {region.superior_category} {region.superior_number}, "
                    "maar die bestaat niet in dit bestand",
                    element=_name(el),
                    attribute="SuperiorRegionNumber",
                    line=el.sourceline,
                )
        elif region.superior_category is not None and region.superior_category not in categories:
            raise EmlError(
                f"{label} verwijst naar een {region.superior_category}, maar die bestaat niet in dit bestand",
                element=_name(el),
                attribute="SuperiorRegionCategory",
                line=el.sourceline,
            )
        if (
            has_kieskring
            and region.category == GEMEENTE
            and (region.superior_category != KIESKRING or region.superior_number is None)
        ):
            raise EmlError(
                f"{label} hoort bij geen kieskring (SuperiorRegionCategory KIESKRING met "
                "SuperiorRegionNumber ontbreekt), terwijl het bestand wel kieskringen heeft",
                element=_name(el),
                attribute="SuperiorRegionNumber",
                line=el.sourceline,
            )
    return tuple(regions)


# ------------------------------------------------------------------ 210 / 230b


def _read_candidate_lists(root: etree._Element, kind: str) -> CandidateLists:
    if kind == "230b":
        election = root.find("eml:CandidateList/eml:Election", _NS)
        assert election is not None  # XSD
        ei = election.find("eml:ElectionIdentifier", _NS)
        contests = election.findall("eml:Contest", _NS)
        if len(contests) > 1:
            raise EmlError(
                f"het bestand bevat {len(contests)} Contest-elementen; "
                "alleen kandidatenlijsten van een enkele Contest worden ondersteund",
                element=_name(contests[1]),
                line=contests[1].sourceline,
            )
        contest = contests[0]
        ci = contest.find("eml:ContestIdentifier", _NS)
        affiliation_els = contest.findall("eml:Affiliation", _NS)
    else:  # 210
        nomination = root.find("eml:Nomination", _NS)
        assert nomination is not None  # XSD
        ei = nomination.find("eml:ElectionIdentifier", _NS)
        ci = nomination.find("eml:ContestIdentifier", _NS)
        affiliation_els = nomination.findall("eml:Affiliation", _NS)
    assert ei is not None and ci is not None  # XSD

    election_ref = _election_ref(ei)
    contest_id = _contest_id(ci)
    contest_name = _text(ci.find(_e("ContestName")))

    affiliations: list[Affiliation] = []
    seen_ids: dict[int, int | None] = {}
    for aff in affiliation_els:
        affiliations.append(_read_affiliation(aff, kind, seen_ids))
    return CandidateLists(
        kind=kind,
        election=election_ref,
        contest_id=contest_id,
        contest_name=contest_name,
        affiliations=tuple(affiliations),
    )


def _read_affiliation(aff: etree._Element, kind: str, seen_ids: dict[int, int | None]) -> Affiliation:
    ai = aff.find(_e("AffiliationIdentifier"))
    assert ai is not None  # XSD
    raw_id = ai.get("Id")
    list_number: int | None = None
    if raw_id is None:
        if kind == "230b":
            raise EmlError(
                "het attribuut Id (het lijstnummer) ontbreekt; in kandidatenlijsten (230b) is het verplicht",
                element=_name(ai),
                attribute="Id",
                line=ai.sourceline,
            )
    else:
        if not _POSITIVE_RE.fullmatch(raw_id.strip()):  # the XSD already demands this
            raise EmlError(
                f"attribuut Id is geen geldig lijstnummer: '{raw_id}'",
                element=_name(ai),
                attribute="Id",
                line=ai.sourceline,
            )
        list_number = int(raw_id.strip())
        if list_number in seen_ids:
            raise EmlError(
                f"attribuut Id: lijstnummer {list_number} komt al eerder voor in deze Contest "
                f"(regel {seen_ids[list_number]})",
                element=_name(ai),
                attribute="Id",
                line=ai.sourceline,
            )
        seen_ids[list_number] = ai.sourceline
    designation = _text(ai.find(_e("RegisteredName")))
    list_type = _text(aff.find(_e("Type")))
    list_label = f"lijst {list_number}" if list_number is not None else "deze lijst"

    candidates: list[Candidate] = []
    seen_positions: dict[int, int | None] = {}
    for cand in aff.iterfind(_e("Candidate")):
        candidate = _read_candidate(cand, list_label, seen_positions)
        candidates.append(candidate)
    contests: list[str] = []
    for contest in aff.iterfind("kr:ListData/kr:Contests/kr:Contest", _NS):
        contest_id = _contest_id(contest)
        if contest_id in contests:
            raise EmlError(
                f"kieskring {contest_id} staat twee keer in kr:Contests van {list_label}",
                element=_name(contest),
                attribute="Id",
                line=contest.sourceline,
            )
        contests.append(contest_id)
    return Affiliation(
        list_number=list_number,
        designation=designation,
        list_type=list_type,
        candidates=tuple(candidates),
        contests=tuple(contests),
    )


def _read_candidate(
    cand: etree._Element, list_label: str, seen_positions: dict[int, int | None]
) -> Candidate:
    ci = cand.find(_e("CandidateIdentifier"))
    assert ci is not None  # XSD
    raw = ci.get("Id")
    if raw is None:
        raise EmlError(
            "het attribuut Id (de positie op de lijst) ontbreekt",
            element=_name(ci),
            attribute="Id",
            line=ci.sourceline,
        )
    if not _POSITIVE_RE.fullmatch(raw.strip()):
        raise EmlError(
            f"attribuut Id is geen geldige positie op de lijst (een geheel getal vanaf 1): '{raw}'",
            element=_name(ci),
            attribute="Id",
            line=ci.sourceline,
        )
    position = int(raw.strip())
    if position in seen_positions:
        raise EmlError(
            f"attribuut Id: positie {position} komt al eerder voor op {list_label} "
            f"(regel {seen_positions[position]})",
            element=_name(ci),
            attribute="Id",
            line=ci.sourceline,
        )
    seen_positions[position] = ci.sourceline

    person = cand.find("eml:CandidateFullName/xnl:PersonName", _NS)
    if person is None:
        raise EmlError(
            f"ontbreekt bij kandidaat {position} van {list_label}",
            element=_name_for(_e("CandidateFullName"), cand),
            line=cand.sourceline,
        )
    last_name_el = person.find(_xnl("LastName"))
    last_name = _text(last_name_el)
    if not last_name:
        shown = last_name_el if last_name_el is not None else person
        raise EmlError(
            f"de achternaam van kandidaat {position} van {list_label} is leeg",
            element=_name_for(_xnl("LastName"), person),
            line=shown.sourceline,
        )
    gender_el = cand.find(_e("Gender"))
    if gender_el is None:
        gender_el = cand.find(_kr("GenderAnnex"))
    locality: str | None = None
    address = cand.find(_e("QualifyingAddress"))
    if address is not None:
        locality_el = next(address.iter(f"{{{XAL_NS}}}LocalityName"), None)
        locality = _text(locality_el)
    return Candidate(
        position=position,
        initials=_text(person.find(_xnl("NameLine"))) or "",
        first_name=_text(person.find(_xnl("FirstName"))),
        prefix=_text(person.find(_xnl("NamePrefix"))),
        last_name=last_name,
        gender=_text(gender_el),
        locality=locality,
    )
