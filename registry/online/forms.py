"""The voter's forms. Messages are Dutch (B1) and say what to do."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField
from wtforms.validators import DataRequired, InputRequired, Length, Regexp, ValidationError


class ChooseListForm(FlaskForm):
    """Step 1: which list the voter wants to support (only lists of the voter's own kieskring)."""

    # Choices are (str(list id), label): WTForms' own coercion errors are English, ours are Dutch.
    list_id = RadioField(_l("Welke lijst wilt u steunen?"), validate_choice=False,
                         validators=[InputRequired(_l("Kies de lijst die u wilt steunen."))])

    def validate_list_id(self, field: RadioField) -> None:
        if field.data not in {value for value, _label in field.choices or []}:
            raise ValidationError(_("Deze lijst doet niet mee in de kieskring waar u woont. "
                                    "Kies een van de lijsten hieronder."))


class ConfirmForm(FlaskForm):
    """Step 2: the chosen list once more, and an explicit yes."""

    # ASCII digits (\d also takes other scripts' digits) and at most 9 of them: it must fit an INTEGER id.
    list_id = HiddenField(validators=[InputRequired(), Regexp(r"^[0-9]{1,9}$")])
    submission = HiddenField(validators=[InputRequired(), Length(min=16, max=64), Regexp(r"^[A-Za-z0-9_\-]+$")])
    # The content hash of the list version on this page: the declaration supports exactly it (H 4 lid 1).
    list_version = HiddenField(validators=[InputRequired(), Regexp(r"^[0-9a-f]{64}$")])
    understood = BooleanField(
        _l("Ik steun deze lijst. Ik weet dat ik dit niet kan intrekken en dat ik maar één verklaring kan afleggen."),
        validators=[DataRequired(_l("Zet een vinkje als u deze lijst wilt steunen. Zonder vinkje leggen wij "
                                    "niets vast."))])
