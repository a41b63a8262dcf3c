"""Return dates stated by out-of-office messages, and the next working day."""

from __future__ import annotations

from datetime import date

import pytest

from crm.mail.ooo import extract_return_date, next_working_day

SENT = date(2026, 11, 20)  # a Friday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I am out of the office and back on 3 December.", date(2026, 12, 3)),
        ("I will be back on December 3rd, 2026.", date(2026, 12, 3)),
        ("Returning Tuesday 12/01.", date(2026, 12, 1)),
        ("I'm away until 2026-12-07.", date(2026, 12, 7)),
        ("On vacation through Dec 4, back after that.", date(2026, 12, 5)),
        ("Away from 24 Nov to 1st Dec 2026.", date(2026, 12, 1)),
        ("Back in the office on Monday.", date(2026, 11, 23)),
        ("Ich bin zurück am 03.12.2026.", date(2026, 12, 3)),
        ("Ich bin bis einschließlich 02.12. im Urlaub.", date(2026, 12, 3)),
        ("Ab dem 3. Dezember bin ich wieder erreichbar.", date(2026, 12, 3)),
        ("Abwesend vom 24.11. – 05.12.", date(2026, 12, 5)),
        ("Je suis absente, de retour le 3 décembre.", date(2026, 12, 3)),
        ("Je serai absent jusqu'au lundi 7 décembre.", date(2026, 12, 7)),
        ("Estoy de vacaciones, regreso el 3 de diciembre.", date(2026, 12, 3)),
        ("Estaré fuera de la oficina hasta el lunes 7 de diciembre.", date(2026, 12, 7)),
    ],
)
def test_return_date_is_read_in_four_languages(text: str, expected: date) -> None:
    found = extract_return_date(text, sent=SENT)
    assert found is not None, text
    assert found.on == expected
    assert found.phrase


def test_weekday_settles_an_ambiguous_numeric_date() -> None:
    # 12/01 is 1 December (a Monday in 2025) or 12 January (a Monday in 2026 too);
    # written on 20 November the nearer reading wins, and the weekday agrees.
    found = extract_return_date("Returning Monday 12/01.", sent=date(2025, 11, 20))
    assert found is not None and found.on == date(2025, 12, 1)


def test_date_without_a_year_written_in_december_means_next_year() -> None:
    found = extract_return_date("Back on 5 January.", sent=date(2026, 12, 20))
    assert found is not None and found.on == date(2027, 1, 5)


def test_no_return_date_when_none_is_stated() -> None:
    assert (
        extract_return_date("I am out of office with limited access to email.", sent=SENT) is None
    )


def test_dates_in_other_roles_are_not_taken_for_a_return_date_over_a_stated_one() -> None:
    text = "Since 2026-11-18 I am travelling. I will be back on 30 November."
    found = extract_return_date(text, sent=SENT)
    assert found is not None and found.on == date(2026, 11, 30)


def test_next_working_day_skips_the_weekend() -> None:
    assert next_working_day(date(2026, 12, 3)) == date(2026, 12, 4)  # Thu -> Fri
    assert next_working_day(date(2026, 12, 4)) == date(2026, 12, 7)  # Fri -> Mon
    assert next_working_day(date(2026, 12, 5)) == date(2026, 12, 7)  # Sat -> Mon
