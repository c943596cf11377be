"""How text and values are normalized, identically for documents and queries.

Text is compared by *words*: the text is folded (compatibility forms unified,
accents of Latin, Greek and Cyrillic letters removed, case folded), then cut at
every character that is not a letter, a digit or a combining mark. Chinese and
Japanese characters are words of one character each (those scripts do not put
spaces between words), so any run of them is found as a phrase.

Values are typed: numbers and booleans keep their JSON type; strings that are
numbers (``"2019"``) or ISO 8601 dates (``"2020-01-31"``, ``"2020-01-31T12:00Z"``)
also have a numeric value, dates as milliseconds since the epoch (the unit of
``dlhub.publication_date``), so ranges work on them.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "MAX_WORD_LENGTH",
    "DateSpan",
    "fold",
    "is_word_char",
    "number_key",
    "parse_date",
    "parse_number",
    "words",
]

_WORD_CATEGORIES = ("L", "N", "M")
_ASCII_WORD = re.compile(r"[a-z0-9]+")

#: Longer words are cut (as Lucene's standard analyzer does at 255).
MAX_WORD_LENGTH = 200


def _is_accent_base(char: str) -> bool:
    code = ord(char)
    # Latin, IPA, Greek, Cyrillic and Latin Extended Additional: scripts whose
    # combining marks are accents a searcher leaves out (not so for Indic scripts).
    return code < 0x0530 or 0x1E00 <= code <= 0x1FFF


def fold(text: str) -> str:
    """Fold text for comparison: compatibility forms, accents and case removed.

    ``fold("Ärger ﬁle")`` is ``"arger file"``. Word boundaries are kept as they are.
    """
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    kept: list[str] = []
    base = ""
    for char in decomposed:
        if unicodedata.category(char) == "Mn":
            if base and _is_accent_base(base):
                continue
        else:
            base = char
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept).casefold())


def _is_ideograph(char: str) -> bool:
    code = ord(char)
    return (
        0x2E80 <= code <= 0x2FDF  # CJK radicals
        or 0x3005 <= code <= 0x3007
        or 0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3FFFF
    )


def is_word_char(char: str) -> bool:
    """Whether a (folded) character belongs to a word."""
    category = unicodedata.category(char)
    return category[0] in _WORD_CATEGORIES or category == "Co"


def words(text: str) -> list[str]:
    """The folded words of a text, in order (``"Keras-Model v2"`` gives ``keras model v2``)."""
    folded = fold(text)
    if folded.isascii():
        found = _ASCII_WORD.findall(folded)
    else:
        found = _unicode_words(folded)
    return [w[:MAX_WORD_LENGTH] for w in found]


def _unicode_words(folded: str) -> list[str]:
    found: list[str] = []
    current: list[str] = []
    for char in folded:
        if _is_ideograph(char):
            if current:
                found.append("".join(current))
                current = []
            found.append(char)
        elif is_word_char(char):
            current.append(char)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return found


# --- numbers -------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(text: str) -> float | int | None:
    """The number a text spells (``"3"``, ``"-2.5"``, ``"1e-3"``), or ``None``."""
    text = text.strip()
    if len(text) > 64 or not _NUMBER.match(text):
        return None
    if re.match(r"^[+-]?\d+$", text):
        return int(text)
    value = float(text)
    return value if math.isfinite(value) else None


def number_key(value: float | int) -> str:
    """A canonical spelling of a number made only of letters and digits.

    Equal numbers get equal keys whatever their JSON type (``3`` and ``3.0``):
    ``3`` -> ``3``, ``-2.5`` -> ``m2p5``, ``1.5e-07`` -> ``1p5em07``.
    """
    if isinstance(value, int) and abs(value) < 2**53:
        text = str(value)
    elif isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        text = str(int(value))
    else:
        text = repr(float(value))
    return text.replace("-", "m").replace("+", "").replace(".", "p")


# --- dates ---------------------------------------------------------------------------

_DATE = re.compile(
    r"^(?P<year>\d{4})-(?P<month>\d{2})"
    r"(?:-(?P<day>\d{2})"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})?)?)?$"
)


@dataclass(frozen=True)
class DateSpan:
    """The milliseconds an ISO date covers: ``start`` included, ``end`` excluded.

    ``2020-01-31`` covers the whole day; ``2020-01`` the month; a time to the
    second covers that second.
    """

    start: int
    end: int


def _epoch_ms(moment: dt.datetime) -> int:
    return (moment - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(
        milliseconds=1
    )


def parse_date(text: str) -> DateSpan | None:
    """Read an ISO 8601 date or date and time (UTC unless it names a zone), or ``None``."""
    text = text.strip()
    if len(text) > 40:
        return None
    found = _DATE.match(text)
    if not found:
        return None
    parts = found.groupdict()
    zone = dt.timezone.utc
    if parts["zone"] and parts["zone"] != "Z":
        sign = -1 if parts["zone"][0] == "-" else 1
        digits = parts["zone"][1:].replace(":", "")
        zone = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        year, month = int(parts["year"]), int(parts["month"])
        if parts["day"] is None:
            start = dt.datetime(year, month, 1, tzinfo=zone)
            end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
            return DateSpan(_epoch_ms(start), _epoch_ms(end))
        day = int(parts["day"])
        if parts["hour"] is None:
            start = dt.datetime(year, month, day, tzinfo=zone)
            return DateSpan(_epoch_ms(start), _epoch_ms(start + dt.timedelta(days=1)))
        start = dt.datetime(
            year,
            month,
            day,
            int(parts["hour"]),
            int(parts["minute"]),
            int(parts["second"] or 0),
            tzinfo=zone,
        )
    except ValueError:
        return None  # 2020-02-31 and the like
    if parts["second"] is None:
        step = dt.timedelta(minutes=1)
    elif parts["fraction"] is None:
        step = dt.timedelta(seconds=1)
    else:
        fraction = parts["fraction"]
        start += dt.timedelta(microseconds=int(fraction[:6].ljust(6, "0")))
        step = dt.timedelta(milliseconds=1)
    first = _epoch_ms(start)
    return DateSpan(first, first + step // dt.timedelta(milliseconds=1))
