"""The CSB's forms. Every session is a deliberate act: a checkbox confirms it."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

from registry.csb.services import REASON_MAX, REASON_MIN


class SessionForm(FlaskForm):
    confirm = BooleanField("Ik bevestig dat het centraal stembureau nu in zitting deze stap zet",
                           validators=[DataRequired("Vink aan dat het centraal stembureau deze stap nu zet.")])


class RulingForm(FlaskForm):
    reason = TextAreaField(
        "Reden waarom deze verklaring ongeldig is",
        validators=[DataRequired("Schrijf de reden op."),
                    Length(min=REASON_MIN, max=REASON_MAX,
                           message=f"Een reden is {REASON_MIN} tot {REASON_MAX} tekens.")],
        render_kw={"rows": 3})


class FinalForm(FlaskForm):
    ground = TextAreaField(
        "Waarom is de beslissing onherroepelijk?",
        validators=[DataRequired("Schrijf op waarom de beslissing onherroepelijk is."),
                    Length(min=REASON_MIN, max=REASON_MAX,
                           message=f"Schrijf {REASON_MIN} tot {REASON_MAX} tekens.")],
        render_kw={"rows": 2})
