"""Loading the Kiesraad EML_NL XSDs (offline, cached) and making libxml2's
validation messages readable in Dutch."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from .errors import EmlError

XSD_DIR = (Path(__file__).resolve().parent.parent / "data" / "xsd").resolve()

#: Message kind (EML/@Id) -> main schema file.
SCHEMA_FILES: dict[str, str] = {
    "110a": "110a-electionevent-kiesraad-strict.xsd",
    "210": "210-nomination-kiesraad-strict.xsd",
    "230b": "230-candidatelist-kiesraad-strict.xsd",
}

EML_NS = "urn:oasis:names:tc:evs:schema:eml"
KR_NS = "http://www.kiesraad.nl/extensions"
XNL_NS = "urn:oasis:names:tc:ciq:xsdschema:xNL:2.0"
XAL_NS = "urn:oasis:names:tc:ciq:xsdschema:xAL:2.0"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"

#: Prefixes used for display when the document itself does not bind a namespace.
CONVENTIONAL_PREFIXES: dict[str, str | None] = {
    EML_NS: None,
    KR_NS: "kr",
    XNL_NS: "xnl",
    XAL_NS: "xal",
    DS_NS: "ds",
    "urn:oasis:names:tc:evs:schema:eml:ts": "ts",
    "http://www.kiesraad.nl/sb-extensions": "sb",
    "http://www.kiesraad.nl/reportgenerator": "rg",
}


class _LocalXsdResolver(etree.Resolver):
    """Serves every xs:include / xs:import from the local xsd folder.

    The EML_NL schemas use relative schemaLocations only; should one ever point
    to a URL, it is mapped to the local file with the same name. Anything that is
    neither inside the xsd folder nor known locally is refused, so loading a
    schema never touches the network.
    """

    def resolve(self, url, pubid, context):
        if url is None:
            return None
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url) and not url.startswith("file://"):
            name = url.rstrip("/").rsplit("/", 1)[-1]
            for candidate in (XSD_DIR / name, XSD_DIR / "external" / name):
                if candidate.is_file():
                    return self.resolve_filename(str(candidate), context)
            raise RuntimeError(f"XSD verwijst naar {url}, dat niet lokaal beschikbaar is")
        path = Path(url[len("file://") :] if url.startswith("file://") else url).resolve()
        if not path.is_relative_to(XSD_DIR) or not path.is_file():
            raise RuntimeError(f"XSD verwijst naar {url}, buiten de map {XSD_DIR}")
        return self.resolve_filename(str(path), context)


class _CachedSchema:
    """An XMLSchema with a lock: lxml keeps the error log on the schema object,
    so validations from several threads must not interleave."""

    def __init__(self, schema: etree.XMLSchema) -> None:
        self.schema = schema
        self.lock = threading.Lock()

    def first_error(self, doc: etree._ElementTree) -> etree._LogEntry | None:
        with self.lock:
            if self.schema.validate(doc):
                return None
            entries = list(self.schema.error_log)
        for entry in entries:
            if entry.level >= etree.ErrorLevels.ERROR:
                return entry
        return entries[0] if entries else None


_schemas: dict[str, _CachedSchema] = {}
_schemas_lock = threading.Lock()


def get_schema(kind: str) -> _CachedSchema:
    """The schema for a message kind, loaded once (lazily) and cached."""
    cached = _schemas.get(kind)
    if cached is not None:
        return cached
    with _schemas_lock:
        cached = _schemas.get(kind)
        if cached is None:
            parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False, huge_tree=False)
            parser.resolvers.add(_LocalXsdResolver())
            doc = etree.parse(str(XSD_DIR / SCHEMA_FILES[kind]), parser)
            cached = _CachedSchema(etree.XMLSchema(doc))
            _schemas[kind] = cached
    return cached


# --------------------------------------------------------------------------- names


def display_name(clark: str, nsmap: dict[str | None, str] | None = None) -> str:
    """'{http://www.kiesraad.nl/extensions}NominationDate' -> 'kr:NominationDate'.

    Uses the prefix the document binds (``nsmap``), else the conventional one.
    The EML namespace has no prefix in the files, so its elements are shown bare.
    """
    if not clark.startswith("{"):
        return clark
    ns, _, local = clark[1:].partition("}")
    prefix: str | None
    if nsmap is not None and ns in nsmap.values():
        # Prefer the default namespace (no prefix) if the document uses it that way.
        prefixes = [p for p, u in nsmap.items() if u == ns]
        prefix = None if None in prefixes else sorted(prefixes)[0]
    elif ns in CONVENTIONAL_PREFIXES:
        prefix = CONVENTIONAL_PREFIXES[ns]
    else:
        return clark
    return f"{prefix}:{local}" if prefix else local


_CLARK_RE = re.compile(r"\{[^{}]*\}[\w.\-]+")


def _names_in(text: str, nsmap: dict[str | None, str] | None) -> str:
    return _CLARK_RE.sub(lambda m: display_name(m.group(0), nsmap), text)


# ------------------------------------------------------------------ XSD messages

_HEAD_RE = re.compile(r"^Element '(?P<el>[^']+)'(?:, attribute '(?P<attr>[^']+)')?: (?P<rest>.*)$", re.S)

_TYPE_NAMES = {
    "xs:date": "geen geldige datum",
    "xs:dateTime": "geen geldig tijdstip (datum en tijd)",
    "xs:positiveInteger": "geen geldig positief geheel getal",
    "xs:nonNegativeInteger": "geen geldig geheel getal van 0 of meer",
    "xs:integer": "geen geldig geheel getal",
    "xs:int": "geen geldig geheel getal (of buiten het bereik)",
    "xs:short": "geen geldig geheel getal (of buiten het bereik -32768..32767)",
    "xs:long": "geen geldig geheel getal (of buiten het bereik)",
    "xs:boolean": "geen geldige ja/nee-waarde (true of false)",
    "xs:NMTOKEN": "geen geldige code (geen spaties of leestekens toegestaan)",
    "xs:ID": "geen geldige identificatie",
    "xs:base64Binary": "geen geldige base64-tekst",
    "xs:anyURI": "geen geldig adres (URI)",
}


def _expected(text: str) -> str:
    # "( {ns}A, {ns}B )" -> "A, B"
    return ", ".join(part.strip() for part in text.strip().strip("()").split(",") if part.strip())


def _atomic(m: re.Match[str]) -> str:
    value, typ = m.group(1), m.group(2)
    what = _TYPE_NAMES.get(typ, f"geen geldige waarde voor type {typ}")
    return f"is {what}: '{value}'"


def _not_expected(m: re.Match[str]) -> str:
    if m.group(2) is None:
        return "staat hier niet op zijn plaats (element niet verwacht)"
    if m.group(1):
        return f"staat hier niet op zijn plaats; verwacht is een van: {_expected(m.group(2))}"
    return f"staat hier niet op zijn plaats; verwacht is: {_expected(m.group(2))}"


def _missing_child(m: re.Match[str]) -> str:
    if m.group(2) is None:
        return "mist een verplicht onderliggend element"
    if m.group(1):
        return f"mist een verplicht onderliggend element, een van: {_expected(m.group(2))}"
    return f"mist het verplichte onderliggende element {_expected(m.group(2))}"


def _bound(m: re.Match[str]) -> str:
    richting = "groter dan het maximum" if m.group(2) == "greater" else "kleiner dan het minimum"
    return f"waarde '{m.group(1)}' is {richting} ({m.group(3)})"


#: libxml2 validation sentences (after "Element '...': ") and their Dutch reading.
_MESSAGES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"'(.*)' is not a valid value of the atomic type '([^']+)'\.", re.S), _atomic),
    (
        re.compile(r"'(.*)' is not a valid value of the (?:local )?(?:atomic|list|union) type\.?", re.S),
        lambda m: f"heeft geen geldige waarde: '{m.group(1)}'",
    ),
    (
        re.compile(r"'(.*)' is not a valid value of the (?:list|union) type '([^']+)'\.", re.S),
        lambda m: f"heeft geen geldige waarde voor type {m.group(2)}: '{m.group(1)}'",
    ),
    (
        re.compile(r"\[facet 'enumeration'\] The value '(.*)' is not an element of the set \{(.*)\}\.", re.S),
        lambda m: f"waarde '{m.group(1)}' is niet toegestaan; toegestaan is: {m.group(2)}",
    ),
    (
        re.compile(r"\[facet 'pattern'\] The value '(.*)' is not accepted by the pattern '(.*)'\.", re.S),
        lambda m: f"waarde '{m.group(1)}' heeft niet de juiste vorm (patroon {m.group(2)})",
    ),
    (
        re.compile(
            r"\[facet 'maxLength'\] The value '(.*)' has a length of '(\d+)'; this exceeds the allowed "
            r"maximum length of '(\d+)'\.",
            re.S,
        ),
        lambda m: (
            f"waarde '{m.group(1)}' is te lang: {m.group(2)} tekens, ten hoogste {m.group(3)} toegestaan"
        ),
    ),
    (
        re.compile(
            r"\[facet 'minLength'\] The value '(.*)' has a length of '(\d+)'; this underruns the allowed "
            r"minimum length of '(\d+)'\.",
            re.S,
        ),
        lambda m: f"waarde '{m.group(1)}' is te kort: {m.group(2)} tekens, ten minste {m.group(3)} vereist",
    ),
    (
        re.compile(
            r"\[facet '(?:max|min)(?:In|Ex)clusive'\] The value '(.*)' is (greater|less) than .*?'(.*)'\)?\.",
            re.S,
        ),
        _bound,
    ),
    (
        re.compile(r"This element is not expected\.(?: Expected is (one of )?(\(.*\))\.)?", re.S),
        _not_expected,
    ),
    (re.compile(r"Missing child element\(s\)\.(?: Expected is (one of )?(\(.*\))\.)?", re.S), _missing_child),
    (
        re.compile(r"The attribute '([^']+)' is required but missing\."),
        lambda m: f"het verplichte attribuut {m.group(1)} ontbreekt",
    ),
    (
        re.compile(r"The attribute '([^']+)' is not allowed\."),
        lambda m: f"attribuut {m.group(1)} is hier niet toegestaan",
    ),
    (
        re.compile(
            r"(?:Character content other than whitespace is not allowed|Element content is not allowed).*",
            re.S,
        ),
        lambda m: "mag hier geen tekst bevatten",
    ),
    (
        re.compile(r"The value '(.*)' does not match the fixed value constraint '(.*)'\.", re.S),
        lambda m: f"waarde '{m.group(1)}' is niet toegestaan; de waarde moet '{m.group(2)}' zijn",
    ),
    (
        re.compile(r"Duplicate key-sequence \[(.*)\] in (?:unique|key) identity-constraint '(.*)'\.", re.S),
        lambda m: f"waarde {m.group(1)} komt dubbel voor (uniciteitsregel {m.group(2)} van het schema)",
    ),
    (
        re.compile(r"No match found for key-sequence \[(.*)\] of keyref '(.*)'\.", re.S),
        lambda m: (
            f"verwijst naar {m.group(1)}, maar die waarde bestaat niet "
            f"(verwijzingsregel {m.group(2)} van het schema)"
        ),
    ),
    (
        re.compile(r"No matching global declaration available for the validation root.*", re.S),
        lambda m: "is geen hoofdelement dat dit schema kent",
    ),
]


def _translate(rest: str) -> str:
    """One libxml2 validation message (after the 'Element ...: ' head) in Dutch.

    Names in ``rest`` are already shown with prefixes. Sentences that are not
    recognised are kept as libxml2 wrote them, after a Dutch prefix.
    """
    rest = rest.strip()
    for pattern, dutch in _MESSAGES:
        m = pattern.fullmatch(rest)
        if m:
            return dutch(m)
    return f"voldoet niet aan het XML-schema: {rest}"


def schema_error(entry: etree._LogEntry, nsmap: dict[str | None, str] | None) -> EmlError:
    """An EmlError from the first libxml2 validation error."""
    message = entry.message or ""
    line = entry.line if entry.line and entry.line > 0 else None
    m = _HEAD_RE.match(message)
    if not m:
        return EmlError(
            f"voldoet niet aan het XML-schema: {_names_in(message, nsmap)}", element=None, line=line
        )
    element = display_name(m.group("el"), nsmap)
    attribute = m.group("attr")
    problem = _translate(_names_in(m.group("rest"), nsmap))
    if attribute:
        problem = (
            f"attribuut {attribute} {problem}"
            if problem.startswith("is ")
            else f"attribuut {attribute}: {problem}"
        )
    else:
        # "The attribute 'Id' is required but missing." names the attribute in the sentence.
        named = re.match(r"The attribute '([^']+)' is (?:required but missing|not allowed)", m.group("rest"))
        if named:
            attribute = named.group(1)
    return EmlError(problem, element=element, line=line, attribute=attribute)
