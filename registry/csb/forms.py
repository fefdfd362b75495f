"""The CSB's forms. Every session is a deliberate act: a checkbox confirms it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from registry.csb.services import REASON_MAX, REASON_MIN


class SessionForm(FlaskForm):
    confirm = BooleanField(_l("Ik bevestig dat het centraal stembureau nu in zitting deze stap zet"),
                           validators=[DataRequired(_l("Vink aan dat het centraal stembureau deze stap nu zet."))])


class RulingForm(FlaskForm):
    reason = TextAreaField(
        _l("Reden waarom deze verklaring ongeldig is"),
        validators=[DataRequired(_l("Schrijf de reden op.")),
                    Length(min=REASON_MIN, max=REASON_MAX,
                           message=_l("Een reden is %(min)s tot %(max)s tekens.", min=REASON_MIN, max=REASON_MAX))],
        render_kw={"rows": 3})
    confirmed = HiddenField()  # "1" from the confirmation step; without it the page asks first


class FinalForm(FlaskForm):
    ground = TextAreaField(
        _l("Waarom is de beslissing onherroepelijk?"),
        validators=[DataRequired(_l("Schrijf op waarom de beslissing onherroepelijk is.")),
                    Length(min=REASON_MIN, max=REASON_MAX,
                           message=_l("Schrijf %(min)s tot %(max)s tekens.", min=REASON_MIN, max=REASON_MAX))],
        render_kw={"rows": 2})
    confirmed = HiddenField()


class PurgeForm(FlaskForm):
    """I 19: the first post is the dry run, shown as the confirmation step; the second destroys."""

    confirmed = HiddenField()


class ExemptionForm(FlaskForm):
    """H 4 lid 8: an aanduiding that won a seat last time needs no declarations; recorded before or during
    the window, also before the party has submitted its list."""

    designation = StringField(_l("Aanduiding, zoals de partij haar heeft laten registreren"),
                              validators=[DataRequired(_l("Vul de aanduiding in.")), Length(max=300)])
    basis = StringField(_l("Grondslag: bij welke verkiezing won deze aanduiding een zetel?"),
                        validators=[DataRequired(_l("Noem de verkiezing waarbij de aanduiding een zetel won.")),
                                    Length(max=300)])
