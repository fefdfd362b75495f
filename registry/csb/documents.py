"""The CSB's printed documents, each template named after the article it serves: the proces-verbaal
of the examination (I 1), the shortage notice (I 2), the inspection copy (I 3), the proces-verbaal
of the decision (I 4) and of the destruction (I 19). Rendered by WeasyPrint, fetching nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import render_template

from registry.calendar_utils import dutch_date, dutch_datetime
from registry.csb.models import Shortage
from registry.documents.services import html_to_pdf
from registry.domain import Period
from registry.elections.models import CandidateList, Election


def _election(election: Election) -> dict[str, Any]:
    return {"identifier": election.identifier, "name": election.name, "date": dutch_date(election.election_date),
            "nomination": dutch_date(election.nomination_date)}


def _periods(repairs: Sequence[Period]) -> list[str]:
    return [f"{dutch_date(p.starts_at)}, {dutch_datetime(p.starts_at).split(', ')[1]} tot "
            f"{dutch_datetime(p.ends_at).split(', ')[1]}" for p in repairs]


def examination_report(election: Election, examination: Any, repairs: Sequence[Period], actor: str) -> bytes:
    return html_to_pdf(render_template(
        "pdf/model_i1_examination.html", election=_election(election), examination=examination,
        held=dutch_datetime(examination.computed_at), repairs=_periods(repairs), actor=actor))


def decision_report(election: Election, examination: Any, shortages: Sequence[Shortage], actor: str) -> bytes:
    return html_to_pdf(render_template(
        "pdf/model_i4_decision.html", election=_election(election), examination=examination,
        held=dutch_datetime(examination.computed_at), notified={(s.list_id, s.kieskring): s for s in shortages},
        actor=actor))


def shortage_notice(election: Election, candidate_list: CandidateList, shortages: Sequence[Shortage],
                    repairs: Sequence[Period]) -> bytes:
    return html_to_pdf(render_template(
        "pdf/model_i2_shortage_notice.html", election=_election(election), candidate_list=candidate_list,
        shortages=shortages, repairs=_periods(repairs), names={d.number: d.name for d in election.districts},
        notified=dutch_datetime(shortages[0].notified_at) if shortages else None))


def inspection_copy(election: Election, candidate_list: CandidateList, lines: Any, now: datetime) -> bytes:
    return html_to_pdf(render_template(
        "pdf/model_i3_inspection.html", election=_election(election), candidate_list=candidate_list,
        lines=lines, made=dutch_datetime(now), dutch_date=dutch_date))


def purge_report(election: Election, report: Any, actor: str, now: datetime, head: tuple[int, str]) -> bytes:
    return html_to_pdf(render_template(
        "pdf/model_i19_destruction.html", election=_election(election), report=report, actor=actor,
        held=dutch_datetime(now), head=head))
