"""The words a patient reads, in the patient's language: the program's own texts through gettext,
dates and weekdays from CLDR (Babel), counts with the language's plural forms.

`words(language)` gives one `Words` per language. English is the source language: its texts are
the ones written in the code, and its dates are written by `recovery.words` with strftime in the
C locale (the same text CLDR gives for English, without loading Babel's data, about 30 ms).
Every other language reads its catalogue, `recovery/locale/<language>/LC_MESSAGES/recovery.mo`,
compiled from the `.po` file beside it (docs/translating.md says how to change one). A protocol's
own texts are translated by a file beside the protocol (`recovery.protocol.translations`).

Never Babel's `format_timedelta`: it rounds 6 weeks to "1 month". A span is counted here, in the
unit the protocol wrote.
"""

from __future__ import annotations

import gettext
from datetime import date
from functools import cache
from importlib.resources import files

from recovery import words as english

#: The languages a plan may ask for, each named in its own words.
LANGUAGES = {"en": "English", "es": "Español"}
#: The language of the program's own texts and of the bundled protocols' files.
SOURCE = "en"


class Words:
    """The program's words in one language (see the module's docstring)."""

    def __init__(self, language: str):
        self.language = language
        if language == SOURCE:
            self.catalogue: gettext.NullTranslations = gettext.NullTranslations()
        else:
            folder = files(__package__).joinpath("locale", language, "LC_MESSAGES", "recovery.mo")
            with folder.open("rb") as handle:
                self.catalogue = gettext.GNUTranslations(handle)

    def __call__(self, text: str) -> str:
        """`text` (one of the program's, in English) in this language."""
        return self.catalogue.gettext(text)

    def plural(self, singular: str, plural: str, number: int) -> str:
        """The form for `number` of a text with "{n}" in it: "{n} day" / "{n} days"."""
        return self.catalogue.ngettext(singular, plural, number).replace("{n}", str(number))

    def count(self, number: int, unit: str) -> str:
        """ "1 day", "3 semanas": a number with a unit of `UNITS`."""
        singular, plural = UNITS[unit]
        return self.plural(singular, plural, number)

    def every_days(self, every: int) -> str:
        """How often a routine every so many days comes: "every other day", "every 4 days"."""
        if every == 2:
            return self("every other day")
        if every == 3:
            return self("every third day")
        return self.plural("every {n} day", "every {n} days", every)

    def listing(self, items: list[str], last: str = "and") -> str:
        """Words as a sentence lists them: "a, b and c", "a, b y c"."""
        return english.listing(items, self(last))

    def long_date(self, day: date) -> str:
        """A date in a sentence: "Mon 01 Mar 2027", "lun 01 mar 2027"."""
        return english.long_date(day) if self.language == SOURCE else self._cldr(day, "EEE dd MMM y")

    def full_date(self, day: date) -> str:
        """A date written out: "Monday 01 March 2027", "lunes, 1 de marzo de 2027"."""
        if self.language == SOURCE:
            return day.strftime("%A %d %B %Y")
        from babel.dates import format_date

        return format_date(day, "full", locale=self.language)

    def short_date(self, day: date) -> str:
        """A date close to today, year left out: "Mon 01 Mar", "lun 01 mar"."""
        return english.short_date(day) if self.language == SOURCE else self._cldr(day, "EEE dd MMM")

    def day_month(self, day: date) -> str:
        """ "01 Mar", "01 mar": a day in a table whose heading has the year."""
        return day.strftime("%d %b") if self.language == SOURCE else self._cldr(day, "dd MMM")

    def iso_date(self, day: date) -> str:
        """A date in a table, sortable: "Mon 2027-03-01", "lun 2027-03-01"."""
        return english.iso_date(day) if self.language == SOURCE else f"{self._cldr(day, 'EEE')} {day.isoformat()}"

    def weekday_names(self, days: tuple[str, ...], wide: bool = False) -> list[str]:
        """Protocol weekday names ("mon") as people read them: short as a protocol writes them
        ("mon", "lun"), or `wide` ("Monday", "lunes")."""
        if self.language == SOURCE:
            return [english.WEEKDAY_NAMES[d] for d in days] if wide else list(days)
        monday = date(2024, 1, 1)  # a Monday
        pattern = "EEEE" if wide else "EEE"
        return [self._cldr(monday.replace(day=1 + english.WEEKDAYS.index(d)), pattern) for d in days]

    def side(self, side: str | None, masculine: bool = False) -> str:
        """The operated side as a text says it: "left", "izquierda" (a pierna), "izquierdo" (a pie)."""
        word = side or "operated"
        if masculine:
            return self(f"{word} (masculine)") if self.language != SOURCE else word
        return self(word)

    def in_days(self, days: int) -> str:
        """How far away a day is: "today", "tomorrow", "in 5 days", "2 days ago"."""
        if days == 0:
            return self("today")
        if days == 1:
            return self("tomorrow")
        if days > 0:
            return self("in {span}").format(span=self.count(days, "day"))
        return self("{span} ago").format(span=self.count(-days, "day"))

    def weeks_and_days(self, days: int) -> str:
        """ "3 weeks and 2 days", "3 semanas y 2 días"."""
        weeks, rest = divmod(days, 7)
        parts = [self.count(weeks, "week")] if weeks else []
        parts += [self.count(rest, "day")] if rest or not weeks else []
        joined = " " + self("and") + " "
        return joined.join(parts)

    def _cldr(self, day: date, pattern: str) -> str:
        from babel.dates import format_date

        return format_date(day, pattern, locale=self.language)


#: The units a count may have, singular and plural as the catalogue knows them.
UNITS = {
    "day": ("{n} day", "{n} days"),
    "week": ("{n} week", "{n} weeks"),
    "month": ("{n} month", "{n} months"),
    "minute": ("{n} minute", "{n} minutes"),
    "second": ("{n} second", "{n} seconds"),
    "set": ("{n} set", "{n} sets"),
    "time": ("{n} time", "{n} times"),
}


@cache
def words(language: str = SOURCE) -> Words:
    """The `Words` of a language of `LANGUAGES` (made once per process)."""
    return Words(language)


def _marks() -> None:
    """Texts the code builds from parts, named here so that extraction (docs/translating.md) finds them."""
    w = words()
    w("left")
    w("right")
    w("operated")
    w("left (masculine)")
    w("right (masculine)")
    w("operated (masculine)")
    w("and")
    w("or")
    w.plural("{n} day", "{n} days", 1)
    w.plural("{n} week", "{n} weeks", 1)
    w.plural("{n} month", "{n} months", 1)
    w.plural("{n} minute", "{n} minutes", 1)
    w.plural("{n} second", "{n} seconds", 1)
    w.plural("{n} set", "{n} sets", 1)
    w.plural("{n} time", "{n} times", 1)
