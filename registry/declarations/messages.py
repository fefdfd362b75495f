"""The recording path's refusals in the words of the page: Dutch, or English on an English page.

The core (``registry.declarations.services``) says why it refused in a sentence of its own; the counter
and online pages show that sentence through this table, so the page's language decides, whatever
language (or wording) the core answered in. Each entry's msgid is the core's Dutch sentence of today.

    {{ refusal|refusal_text }}             in a template (the filter is registered by registry.i18n)
    refusal_message(refusal)               in Python
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from registry.declarations.services import DeclarationRefused, Refusal

# The counter's own refusals at step 1 (the core says the same in other words when it records).
COUNTER_WINDOW_CLOSED = _l("De termijn voor ondersteuningsverklaringen is gesloten (art. H 4 lid 3). Er kan nu geen "
                           "verklaring worden vastgelegd.")
COUNTER_ALREADY_DECLARED = _l("Deze kiezer heeft voor deze verkiezing al een ondersteuningsverklaring afgelegd. Er kan "
                              "er maar één zijn: een tweede zou beide ongeldig maken (art. H 4 lid 5). Er is niets "
                              "nieuws vastgelegd.")

# Per refusal, its sentences. Where a refusal has more than one (the window: closed, repair period, after
# the decision), the core's sentence picks which; a refusal with one sentence, or one per ``reason`` in
# its details, is said that way even when the core's wording changed.
REFUSAL_MESSAGES: dict[Refusal, tuple[LazyString, ...]] = {
    Refusal.NOT_REGISTERED_HERE: (
        _l("Deze persoon staat niet ingeschreven in deze gemeente. Een verklaring aan de balie kan alleen in de "
           "gemeente waar de kiezer staat ingeschreven (art. H 4 lid 3)."),),
    Refusal.REGISTRY_UNAVAILABLE: (
        _l("De BRP is nu niet bereikbaar. Er is niets vastgelegd. Probeer het over een paar minuten opnieuw, of "
           "gebruik het papieren formulier (model H 4)."),),
    Refusal.ALREADY_DECLARED: (COUNTER_ALREADY_DECLARED,),
    Refusal.ONLINE_CLOSED: (
        _l("Voor deze verkiezing kunt u nog niet online een verklaring afleggen. Dat kan wel aan de balie van uw "
           "eigen gemeente."),),
    Refusal.DATA_DESTROYED: (_l("De gegevens van deze verkiezing zijn vernietigd."),),
    Refusal.WINDOW_CLOSED: (
        COUNTER_WINDOW_CLOSED,
        _l("De termijn voor ondersteuningsverklaringen is gesloten (art. H 4 lid 3). Er is niets vastgelegd."),
        _l("Het centraal stembureau heeft al over de lijsten beslist (art. I 4). Er worden geen verklaringen meer "
           "vastgelegd. Er is niets vastgelegd."),
        _l("De termijn voor ondersteuningsverklaringen is gesloten. Alleen in de hersteltermijn na het onderzoek "
           "van het centraal stembureau (art. I 2) kan nog een verklaring worden afgelegd, en dan alleen voor een "
           "lijst en kieskring waarvoor een tekort is gemeld. Dat geldt niet voor deze lijst hier, of de "
           "hersteltermijn is nu niet open. Er is niets vastgelegd."),
    ),
    Refusal.INVALID_BSN: (
        _l("Dit BSN klopt niet: het voldoet niet aan de elfproef. Controleer de cijfers."),
        _l("Dit BSN bestaat niet (alleen nullen). Controleer de cijfers."),
        _l("Een BSN bestaat uit 9 cijfers. Controleer wat u hebt ingevuld."),
    ),
}

# Not eligible: one sentence per reason the core gives in its details (``withheld``: an exclusion from
# the vote, not named at the counter).
NOT_ELIGIBLE_MESSAGES: dict[str, LazyString] = {
    "not_registered": _l("Deze persoon staat niet ingeschreven in een Nederlandse gemeente."),
    "deceased": _l("Deze persoon staat in de BRP als overleden."),
    "underage": _l("Deze persoon is op de dag van de stemming nog geen 18 jaar (art. B 1)."),
    "nationality": _l("Deze persoon heeft niet de nationaliteit die deze verkiezing vraagt (art. B 1)."),
    "excluded": _l("Deze persoon is uitgesloten van het kiesrecht."),
    "outside_election": _l("Deze persoon woont niet in het gebied van deze verkiezing."),
    "wrong_district": _l("Deze lijst doet niet mee in de kieskring van deze persoon."),
    "withheld": _l("Deze persoon kan volgens de BRP geen ondersteuningsverklaring afleggen voor deze verkiezing. De "
                   "reden wordt hier niet getoond: de persoon kan die zelf opvragen bij de eigen gemeente (inzage in "
                   "de BRP)."),
}


def _msgid(message: LazyString) -> str:
    return str(message._args[0])  # the Dutch source text the lazy string was made from


def refusal_message(refusal: DeclarationRefused | Any) -> str:
    """The refusal's sentence in the page's language; the core's own sentence when the table has none."""
    core = str(getattr(refusal, "message", "") or "")
    code = getattr(refusal, "code", None)
    if code is Refusal.NOT_ELIGIBLE:
        reason = str((getattr(refusal, "details", None) or {}).get("reason", ""))
        return str(NOT_ELIGIBLE_MESSAGES[reason]) if reason in NOT_ELIGIBLE_MESSAGES else core
    sentences = REFUSAL_MESSAGES.get(code, ()) if isinstance(code, Refusal) else ()
    for sentence in sentences:
        if core in (_msgid(sentence), str(sentence)):
            return str(sentence)
    if len(sentences) == 1:
        return str(sentences[0])
    return core
