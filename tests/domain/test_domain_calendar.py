"""The declaration window (H 4 lid 3), the CSB sessions (I 1, I 4) and repair (I 2)."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain import (
    AMS,
    Acceptance,
    Period,
    acceptance,
    decision_session,
    default_declaration_window,
    examination_session,
    repair_periods,
)

NOMINATION = date(2025, 9, 15)  # TK2025
EXAMINATION = NOMINATION + timedelta(days=1)


def ams(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)


# --- H 4 lid 3: the window --------------------------------------------------------------------


def test_H4_lid3_window_closes_at_1700_local():
    window = default_declaration_window(NOMINATION)
    assert window.contains(ams(2025, 9, 15, 16, 59, 59))
    assert not window.contains(ams(2025, 9, 15, 17, 0, 0))


def test_H4_lid3_window_close_is_the_same_instant_in_utc():
    window = default_declaration_window(NOMINATION)  # 17:00 CEST = 15:00 UTC
    assert window.contains(datetime(2025, 9, 15, 14, 59, 59, tzinfo=UTC))
    assert not window.contains(datetime(2025, 9, 15, 15, 0, 0, tzinfo=UTC))


def test_H4_lid3_window_opens_at_0000_local_14_days_before_nomination_day():
    window = default_declaration_window(NOMINATION)
    assert window.starts_at == ams(2025, 9, 1, 0, 0)
    assert window.contains(ams(2025, 9, 1, 0, 0, 0))
    assert not window.contains(ams(2025, 8, 31, 23, 59, 59))


def test_H4_lid3_window_across_start_of_summer_time():
    # last Sunday of March 2026 is 29 March: the window opens in CET and closes in CEST
    window = default_declaration_window(date(2026, 4, 6))
    assert window.starts_at.utcoffset() == timedelta(hours=1)
    assert window.ends_at.utcoffset() == timedelta(hours=2)
    assert window.starts_at.utcoffset() != window.ends_at.utcoffset()
    assert window.starts_at.astimezone(AMS).date() == date(2026, 3, 23)
    assert window.starts_at.astimezone(AMS).time() == time(0, 0)
    assert window.ends_at.astimezone(AMS).time() == time(17, 0)
    assert window.starts_at.astimezone(UTC) == datetime(2026, 3, 22, 23, 0, tzinfo=UTC)
    assert window.ends_at.astimezone(UTC) == datetime(2026, 4, 6, 15, 0, tzinfo=UTC)
    elapsed = window.ends_at.astimezone(UTC) - window.starts_at.astimezone(UTC)
    assert elapsed == timedelta(days=14, hours=16)  # one hour lost
    assert window.contains(ams(2026, 4, 6, 16, 59, 59))
    assert not window.contains(ams(2026, 4, 6, 17, 0, 0))


def test_H4_lid3_window_across_end_of_summer_time():
    # last Sunday of October 2025 is 26 October: the window opens in CEST and closes in CET
    window = default_declaration_window(date(2025, 11, 3))
    assert window.starts_at.utcoffset() == timedelta(hours=2)
    assert window.ends_at.utcoffset() == timedelta(hours=1)
    assert window.starts_at.astimezone(AMS).time() == time(0, 0)
    assert window.ends_at.astimezone(AMS).time() == time(17, 0)
    assert window.ends_at.astimezone(UTC) == datetime(2025, 11, 3, 16, 0, tzinfo=UTC)
    elapsed = window.ends_at.astimezone(UTC) - window.starts_at.astimezone(UTC)
    assert elapsed == timedelta(days=14, hours=18)  # one hour gained
    assert window.contains(datetime(2025, 11, 3, 15, 59, 59, tzinfo=UTC))
    assert not window.contains(datetime(2025, 11, 3, 16, 0, 0, tzinfo=UTC))


def test_period_rejects_naive_datetimes():
    with pytest.raises(ValueError):
        Period(datetime(2025, 9, 1), ams(2025, 9, 15, 17))
    window = default_declaration_window(NOMINATION)
    with pytest.raises(ValueError):
        window.contains(datetime(2025, 9, 10, 12, 0))


def test_period_must_end_after_it_starts():
    with pytest.raises(ValueError):
        Period(ams(2025, 9, 15, 17), ams(2025, 9, 15, 17))


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_property_H4_lid3_window_boundaries_are_local_wall_clock(nomination_day):
    window = default_declaration_window(nomination_day)
    close = datetime.combine(nomination_day, time(17, 0), tzinfo=AMS)
    assert window.ends_at.astimezone(AMS).time() == time(17, 0)
    assert window.starts_at.astimezone(AMS).time() == time(0, 0)
    assert (nomination_day - window.starts_at.astimezone(AMS).date()).days == 14
    assert window.contains(close - timedelta(seconds=1))
    assert not window.contains(close)
    assert window.contains(window.starts_at)
    assert not window.contains(window.starts_at - timedelta(microseconds=1))


# --- I 1, I 2, I 4 ------------------------------------------------------------------------------


def test_I1_examination_session_day_after_nomination_at_1600_local():
    assert examination_session(NOMINATION) == ams(2025, 9, 16, 16, 0)
    assert examination_session(NOMINATION).astimezone(AMS).time() == time(16, 0)


def test_I2_repair_on_the_three_days_after_examination():
    day1, day2, day3 = repair_periods(EXAMINATION)
    assert (day1.starts_at, day1.ends_at) == (ams(2025, 9, 17, 9), ams(2025, 9, 17, 17))
    assert (day2.starts_at, day2.ends_at) == (ams(2025, 9, 18, 9), ams(2025, 9, 18, 17))
    assert (day3.starts_at, day3.ends_at) == (ams(2025, 9, 19, 9), ams(2025, 9, 19, 15))


def test_I2_repair_day1_runs_0900_to_1700():
    day1 = repair_periods(EXAMINATION)[0]
    assert not day1.contains(ams(2025, 9, 17, 8, 59, 59))
    assert day1.contains(ams(2025, 9, 17, 9, 0, 0))
    assert day1.contains(ams(2025, 9, 17, 16, 59, 59))
    assert not day1.contains(ams(2025, 9, 17, 17, 0, 0))


def test_I2_repair_day3_ends_1500():
    day3 = repair_periods(EXAMINATION)[2]
    assert day3.contains(ams(2025, 9, 19, 14, 59, 59))
    assert not day3.contains(ams(2025, 9, 19, 15, 0, 0))


def test_I2_repair_periods_across_end_of_summer_time():
    # examination on Saturday 25 October 2025; repair days 26 (DST ends), 27, 28 October
    day1, _, day3 = repair_periods(date(2025, 10, 25))
    assert day1.starts_at.astimezone(AMS).time() == time(9, 0)
    assert day1.starts_at.utcoffset() == timedelta(hours=1)
    assert day3.ends_at.astimezone(UTC) == datetime(2025, 10, 28, 14, 0, tzinfo=UTC)


def test_I4_decision_session_last_repair_day_at_1600_local():
    assert decision_session(EXAMINATION) == ams(2025, 9, 19, 16, 0)
    assert decision_session(EXAMINATION).date() == repair_periods(EXAMINATION)[2].starts_at.date()


# --- acceptance: H 4 lid 3 and I 2 lid 3 --------------------------------------------------------

WINDOW = default_declaration_window(NOMINATION)
REPAIRS = repair_periods(EXAMINATION)
NOTIFIED = {(7, 3)}  # list 7 was notified of a shortage in kieskring 3


def _acceptance(moment, list_id=7, district=3, notified=NOTIFIED):
    return acceptance(moment, WINDOW, REPAIRS, notified, list_id, district)


def test_H4_lid3_acceptance_open_inside_window_for_every_list():
    assert _acceptance(ams(2025, 9, 10, 12)) is Acceptance.OPEN
    assert _acceptance(ams(2025, 9, 10, 12), list_id=8, district=1) is Acceptance.OPEN
    assert _acceptance(ams(2025, 9, 15, 16, 59, 59), notified=set()) is Acceptance.OPEN


def test_H4_lid3_acceptance_closed_at_1700_on_nomination_day():
    assert _acceptance(ams(2025, 9, 15, 17, 0, 0)) is Acceptance.CLOSED


def test_I2_lid3_repair_accepts_only_a_notified_list_and_kieskring():
    moment = ams(2025, 9, 17, 10, 0)
    assert _acceptance(moment) is Acceptance.REPAIR
    assert _acceptance(moment, list_id=8, district=3) is Acceptance.CLOSED  # other list
    assert _acceptance(moment, list_id=7, district=4) is Acceptance.CLOSED  # other kieskring
    assert _acceptance(moment, notified=set()) is Acceptance.CLOSED


def test_I2_closed_between_repair_days_even_for_a_notified_pair():
    assert _acceptance(ams(2025, 9, 17, 16, 59, 59)) is Acceptance.REPAIR
    assert _acceptance(ams(2025, 9, 17, 17, 0, 0)) is Acceptance.CLOSED
    assert _acceptance(ams(2025, 9, 18, 8, 59, 0)) is Acceptance.CLOSED
    assert _acceptance(ams(2025, 9, 18, 9, 0, 0)) is Acceptance.REPAIR


def test_I2_closed_between_window_and_repair_and_after_day3():
    assert _acceptance(examination_session(NOMINATION)) is Acceptance.CLOSED
    assert _acceptance(ams(2025, 9, 19, 14, 59, 59)) is Acceptance.REPAIR
    assert _acceptance(ams(2025, 9, 19, 15, 0, 0)) is Acceptance.CLOSED
    assert _acceptance(ams(2025, 9, 20, 10, 0)) is Acceptance.CLOSED


def test_acceptance_rejects_a_naive_moment():
    with pytest.raises(ValueError):
        _acceptance(datetime(2025, 9, 10, 12, 0))
