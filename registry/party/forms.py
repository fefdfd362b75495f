"""The party agent's forms. Messages are Dutch and say what to do."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget


class UploadForm(FlaskForm):
    file = FileField(_l("Bestand met de kandidaatstelling (EML 210)"),
                     validators=[FileRequired(_l("Kies het EML-bestand dat het programma van uw partij maakte."))])


class ListForm(FlaskForm):
    designation = StringField(_l("Aanduiding"),
                              validators=[Length(max=300, message=_l("Een aanduiding is hoogstens 300 tekens."))])
    kieskringen = SelectMultipleField(_l("Kieskringen waarin deze lijst meedoet"), validate_choice=False,
                                      widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    candidates = TextAreaField(_l("Kandidaten, één per regel, in volgorde"),
                               validators=[DataRequired(_l("Vul de kandidaten in: één per regel."))],
                               render_kw={"rows": 12, "spellcheck": "false"})

    def validate_kieskringen(self, field: SelectMultipleField) -> None:
        allowed = {value for value, _label in field.choices or []}
        if not field.data:
            raise ValidationError(_("Kies ten minste één kieskring."))
        if not set(field.data) <= allowed:
            raise ValidationError(_("Kies alleen kieskringen van deze verkiezing."))
