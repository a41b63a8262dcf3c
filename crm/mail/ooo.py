"""The return date an out-of-office message states, in English, German, French or Spanish.

Dates are read relative to the message's own date: "back on 3 December" in a
message of 20 December means next year's 3 December. Weekday names settle
ambiguous numeric dates ("Monday 12/01"); otherwise the nearest plausible
future reading wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS: dict[str, int] = {
    # English
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11,
    "nov": 11, "december": 12, "dec": 12,
    # German
    "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "maerz": 3, "mai": 5, "juni": 6,
    "juli": 7, "oktober": 10, "okt": 10, "dezember": 12, "dez": 12,
    # French
    "janvier": 1, "janv": 1, "février": 2, "fevrier": 2, "févr": 2, "fevr": 2, "mars": 3,
    "avril": 4, "avr": 4, "juin": 6, "juillet": 7, "juil": 7, "août": 8, "aout": 8,
    "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12, "decembre": 12, "déc": 12,
    # Spanish
    "enero": 1, "ene": 1, "febrero": 2, "marzo": 3, "abril": 4, "abr": 4, "mayo": 5,
    "junio": 6, "julio": 7, "agosto": 8, "ago": 8, "septiembre": 9, "setiembre": 9,
    "octubre": 10, "noviembre": 11, "diciembre": 12, "dic": 12,
}  # fmt: skip

WEEKDAYS: dict[str, int] = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5, "sunday": 6,
    "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4,
    "samstag": 5, "sonntag": 6,
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5,
    "dimanche": 6,
    "lunes": 0, "martes": 1, "miércoles": 2, "miercoles": 2, "jueves": 3, "viernes": 4,
    "sábado": 5, "sabado": 5, "domingo": 6,
}  # fmt: skip

# Words before a date that say "this is when I am back" (rank 2), "away until" (rank 1),
# or that close a range "from X to Y" (rank 0). "through" means back the day after.
_CUES: tuple[tuple[int, bool, re.Pattern[str]], ...] = tuple(
    (rank, after, re.compile(pattern + r"\W*(?:\w+\W+){0,4}$"))
    for rank, after, pattern in (
        (2, False, r"\b(?:back|return|returning|returns|reachable|available|in the office)\b"),
        (2, False, r"\b(?:zurück|wieder|ab dem|ab)\b"),
        (2, False, r"\b(?:retour|reviens|rentre|à partir du|a partir du|disponible)\b"),
        (2, False, r"\b(?:regreso|regresaré|regresare|vuelta|volveré|volvere|reincorporo"
                   r"|a partir del)\b"),
        (1, True, r"\b(?:through|thru|inclusive|einschließlich|einschliesslich|inclus)\b"),
        (1, False, r"\b(?:until|till|til|bis|jusqu['\u2019]au|jusqu['\u2019]à|hasta)\b"),
        (0, False, r"(?:\bto\b|\bau\b|\bal\b|[-\u2013\u2014])"),
    )
)  # fmt: skip

_MONTH = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
_WEEKDAY = "|".join(sorted((re.escape(w) for w in WEEKDAYS), key=len, reverse=True))
_DATE = re.compile(
    rf"""
    (?:(?P<wd>{_WEEKDAY})\b\.?,?\s+(?:(?:the|le|el|den|dem)\s+)?)?
    (?:
        (?<!\d)(?P<iy>\d{{4}})-(?P<im>\d{{1,2}})-(?P<id>\d{{1,2}})(?!\d)
      | (?<![\d.])(?P<dd>\d{{1,2}})\.(?P<dm>\d{{1,2}})\.(?P<dy>\d{{4}}|\d{{2}}(?!\d))?
      | (?<![\d/])(?P<sa>\d{{1,2}})/(?P<sb>\d{{1,2}})(?:/(?P<sy>\d{{4}}|\d{{2}}))?(?![\d/])
      | (?<!\d)(?P<nd>\d{{1,2}})(?:st|nd|rd|th|er|\.|º|°)?\s*(?:of\s+|de\s+)?
            (?P<nm>{_MONTH})\b\.?(?:,?\s+(?:de\s+)?(?P<ny>\d{{4}}))?
      | \b(?P<mm>{_MONTH})\b\.?\s+(?P<md>\d{{1,2}})(?:st|nd|rd|th)?(?!\d)(?:,?\s+(?P<my>\d{{4}}))?
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)
_WEEKDAY_ONLY = re.compile(
    rf"\b(?:on\s+|am\s+|le\s+|el\s+)?(?P<wd>{_WEEKDAY})\b(?!\s*,?\s*\d)", re.IGNORECASE
)


@dataclass(frozen=True)
class ReturnDate:
    """A stated return date and the words it was read from."""

    on: date
    phrase: str


def next_working_day(day: date) -> date:
    """Return the first Monday-to-Friday day after `day`."""
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _year(value: str | None) -> int | None:
    if not value:
        return None
    year = int(value)
    return year + 2000 if year < 100 else year


def _readings(m: re.Match[str]) -> list[tuple[int | None, int, int]]:
    """Return the (year, month, day) readings of one date match."""
    g = m.groupdict()
    if g["iy"]:
        return [(int(g["iy"]), int(g["im"]), int(g["id"]))]
    if g["dd"]:
        return [(_year(g["dy"]), int(g["dm"]), int(g["dd"]))]
    if g["sa"]:
        a, b, year = int(g["sa"]), int(g["sb"]), _year(g["sy"])
        return [(year, a, b), (year, b, a)] if a != b else [(year, a, b)]
    if g["nd"]:
        return [(_year(g["ny"]), MONTHS[g["nm"].lower()], int(g["nd"]))]
    return [(_year(g["my"]), MONTHS[g["mm"].lower()], int(g["md"]))]


def _resolve(year: int | None, month: int, day: int, sent: date) -> date | None:
    try:
        if year is not None:
            return date(year, month, day)
        found = date(sent.year, month, day)
        if found < sent - timedelta(days=60):  # "back on 5 January", written in December
            found = date(sent.year + 1, month, day)
        return found
    except ValueError:
        return None


def _cue(before: str) -> tuple[int, bool, int] | None:
    """Return the rank of the cue before a date, whether it means "the day after", its start."""
    for rank, after, pattern in _CUES:
        found = pattern.search(before)
        if found:
            return rank, after, found.start()
    return None


def extract_return_date(text: str, *, sent: date) -> ReturnDate | None:
    """Return the date the sender says they are back, read relative to `sent`."""
    lowered = text.lower()
    earliest, latest = sent - timedelta(days=60), sent + timedelta(days=366)
    best: tuple[int, date, str] | None = None
    for m in _DATE.finditer(lowered):
        start = m.start()
        before = lowered[max(0, start - 60) : start]
        before = re.split(r"[.!?;\n]\s", before)[-1]  # the same sentence only
        rank, after, cue_at = _cue(before) or (-1, False, len(before))
        options = [
            found
            for year, month, day in _readings(m)
            if (found := _resolve(year, month, day, sent)) and earliest <= found <= latest
        ]
        weekday = WEEKDAYS.get((m.group("wd") or "").lower())
        # A weekday name settles "12/01"; a wrong one (people slip) is ignored.
        options = [d for d in options if d.weekday() == weekday] or options
        if not options:
            continue
        future = [d for d in options if d >= sent] or options
        found = min(future, key=lambda d: abs((d - sent).days))
        if after:
            found += timedelta(days=1)
        phrase = before[cue_at:] + m.group(0)
        if best is None or (rank, found) > (best[0], best[1]):
            best = (rank, found, phrase)
    if best is None:
        best = _weekday_only(lowered, sent)
    if best is None or (best[0] < 0 and best[1] < sent):
        return None
    return ReturnDate(on=best[1], phrase=" ".join(best[2].split()).rstrip(".,"))


def _weekday_only(lowered: str, sent: date) -> tuple[int, date, str] | None:
    """Read "back on Monday": the first such weekday after the message date."""
    for m in _WEEKDAY_ONLY.finditer(lowered):
        before = re.split(r"[.!?;\n]\s", lowered[max(0, m.start() - 40) : m.start()])[-1]
        cue = _cue(before)
        if cue is None or cue[0] < 1:
            continue
        target = WEEKDAYS[m.group("wd").lower()]
        ahead = (target - sent.weekday()) % 7 or 7
        return cue[0], sent + timedelta(days=ahead), before[cue[2] :] + m.group(0)
    return None
