"""The clerk's forms. Validation messages are Dutch and say what to do."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from registry.domain import InvalidBsn, normalize_bsn
from registry.domain.documents import (
    DUTCH,
    FOREIGN_ISSUERS,
    FOREIGN_TYPES,
    DocumentType,
    document_number_ok,
    parse_country,
    parse_document_type,
)

DOCUMENT_CHOICES = [
    ("", _l("Kies het soort document")),
    (DocumentType.PASSPORT.value, _l("Paspoort")),
    (DocumentType.IDENTITY_CARD.value, _l("Identiteitskaart")),
    (DocumentType.DRIVING_LICENCE.value, _l("Rijbewijs")),
    (DocumentType.RESIDENCE_DOCUMENT.value, _l("Verblijfsdocument")),
]


# The issuing state of the document: the Netherlands, or a state whose passport or identity card is a
# valid identity document here (EU, EEA, Switzerland).
COUNTRY_NAMES = {
    "NL": _l("Nederland"), "AT": _l("Oostenrijk"), "BE": _l("België"), "BG": _l("Bulgarije"), "CY": _l("Cyprus"),
    "CZ": _l("Tsjechië"), "DE": _l("Duitsland"), "DK": _l("Denemarken"), "EE": _l("Estland"), "ES": _l("Spanje"),
    "FI": _l("Finland"), "FR": _l("Frankrijk"), "GR": _l("Griekenland"), "HR": _l("Kroatië"),
    "HU": _l("Hongarije"), "IE": _l("Ierland"), "IT": _l("Italië"), "LT": _l("Litouwen"), "LU": _l("Luxemburg"),
    "LV": _l("Letland"), "MT": _l("Malta"), "PL": _l("Polen"), "PT": _l("Portugal"), "RO": _l("Roemenië"),
    "SE": _l("Zweden"), "SI": _l("Slovenië"), "SK": _l("Slowakije"), "IS": _l("IJsland"),
    "LI": _l("Liechtenstein"), "NO": _l("Noorwegen"), "CH": _l("Zwitserland"),
}
assert set(COUNTRY_NAMES) == FOREIGN_ISSUERS | {DUTCH}
_FOREIGN_CHOICES = sorted(((code, name) for code, name in COUNTRY_NAMES.items() if code != DUTCH),
                          key=lambda item: str(item[1]))
COUNTRY_CHOICES = [(DUTCH, COUNTRY_NAMES[DUTCH]), *_FOREIGN_CHOICES]


class VoterForm(FlaskForm):
    """Step 1: who is at the counter, and which document did the clerk check."""

    bsn = StringField(_l("BSN van de kiezer"), validators=[DataRequired(_l("Vul het BSN in: 9 cijfers."))],
                      render_kw={"inputmode": "numeric", "autocomplete": "off", "autofocus": True,
                                 "spellcheck": "false"})
    document_type = SelectField(_l("Soort identiteitsbewijs"), choices=DOCUMENT_CHOICES,
                                validators=[DataRequired(_l("Kies het soort identiteitsbewijs dat u hebt gezien."))])
    document_country = SelectField(_l("Land van uitgifte"), choices=COUNTRY_CHOICES, default=DUTCH)
    document_number = StringField(_l("Documentnummer"), validators=[DataRequired(_l("Vul het documentnummer in."))],
                                  render_kw={"autocomplete": "off", "spellcheck": "false"})

    def validate_bsn(self, field: StringField) -> None:
        try:
            field.data = normalize_bsn(field.data or "")
        except InvalidBsn as exc:
            raise ValidationError({
                "checksum": _("Dit BSN klopt niet: het voldoet niet aan de elfproef. Controleer de cijfers."),
                "zeros": _("Dit BSN bestaat niet (alleen nullen). Controleer de cijfers."),
            }.get(exc.reason, _("Een BSN bestaat uit 9 cijfers. Controleer wat u hebt ingevuld."))) from None

    def validate_document_country(self, field: SelectField) -> None:
        country = parse_country(field.data)
        kind = parse_document_type(self.document_type.data)
        if country is not None and country != DUTCH and kind is not None and kind not in FOREIGN_TYPES:
            raise ValidationError(_("Van een buitenlands document gelden alleen een paspoort en een identiteitskaart."))

    def validate_document_number(self, field: StringField) -> None:
        kind = parse_document_type(self.document_type.data)
        country = parse_country(self.document_country.data) or DUTCH
        if country != DUTCH and kind not in FOREIGN_TYPES:
            return  # said at the country
        if kind is not None and not document_number_ok(kind, field.data, country):
            raise ValidationError(_("Dit nummer past niet bij een %(kind)s. Controleer het nummer op het document.",
                                    kind=kind.value))


class ConfirmForm(FlaskForm):
    """Step 2: the list the voter chooses, and the clerk's confirmation."""

    token = HiddenField(validators=[InputRequired(), Length(max=2000)])
    submission = HiddenField(validators=[InputRequired(), Length(max=64)])
    list_id = RadioField(_l("Welke lijst ondersteunt de kiezer?"), coerce=int,
                         validators=[InputRequired(_l("Kies de lijst die de kiezer wil ondersteunen."))])
    identity_checked = BooleanField(
        _l("Ik heb het identiteitsbewijs gezien en de naam en geboortedatum komen overeen."),
        validators=[DataRequired(_l("Bevestig dat u het identiteitsbewijs hebt vergeleken met de gegevens."))])


class ElectionChoiceForm(FlaskForm):
    election = SelectField(_l("Verkiezing"), validators=[DataRequired(_l("Kies een verkiezing."))])
