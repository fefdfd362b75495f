"""The party agent's forms. Messages are Dutch and say what to do."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget


class UploadForm(FlaskForm):
    file = FileField("Bestand met de kandidaatstelling (EML 210)",
                     validators=[FileRequired("Kies het EML-bestand dat het programma van uw partij maakte.")])


class ListForm(FlaskForm):
    designation = StringField("Aanduiding", validators=[Length(max=300, message="Een aanduiding is hoogstens "
                                                                                "300 tekens.")])
    kieskringen = SelectMultipleField("Kieskringen waarin deze lijst meedoet", validate_choice=False,
                                      widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    candidates = TextAreaField("Kandidaten, één per regel, in volgorde",
                               validators=[DataRequired("Vul de kandidaten in: één per regel.")],
                               render_kw={"rows": 12, "spellcheck": "false"})

    def validate_kieskringen(self, field: SelectMultipleField) -> None:
        allowed = {value for value, _label in field.choices or []}
        if not field.data:
            raise ValidationError("Kies ten minste één kieskring.")
        if not set(field.data) <= allowed:
            raise ValidationError("Kies alleen kieskringen van deze verkiezing.")
