"""The clerk's forms. Validation messages are Dutch and say what to do."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from registry.domain import InvalidBsn, normalize_bsn
from registry.domain.documents import DocumentType, document_number_ok, parse_document_type

DOCUMENT_CHOICES = [
    ("", _l("Kies het soort document")),
    (DocumentType.PASSPORT.value, _l("Paspoort")),
    (DocumentType.IDENTITY_CARD.value, _l("Identiteitskaart")),
    (DocumentType.DRIVING_LICENCE.value, _l("Rijbewijs")),
    (DocumentType.RESIDENCE_DOCUMENT.value, _l("Verblijfsdocument")),
]


class VoterForm(FlaskForm):
    """Step 1: who is at the counter, and which document did the clerk check."""

    bsn = StringField(_l("BSN van de kiezer"), validators=[DataRequired(_l("Vul het BSN in: 9 cijfers."))],
                      render_kw={"inputmode": "numeric", "autocomplete": "off", "autofocus": True,
                                 "spellcheck": "false"})
    document_type = SelectField(_l("Soort identiteitsbewijs"), choices=DOCUMENT_CHOICES,
                                validators=[DataRequired(_l("Kies het soort identiteitsbewijs dat u hebt gezien."))])
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

    def validate_document_number(self, field: StringField) -> None:
        kind = parse_document_type(self.document_type.data)
        if kind is not None and not document_number_ok(kind, field.data):
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
