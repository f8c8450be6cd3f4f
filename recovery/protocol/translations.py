"""A protocol's texts in another language: a PO file beside the protocol file.

`proximal-hamstring-repair.es.po` holds the Spanish of `proximal-hamstring-repair.toml`. Each entry
is keyed by the text's place (`msgctxt "phases[id=protection].title"`), holds the English it was
translated from (`msgid`) and the translation (`msgstr`): any translation tool reads it (Poedit,
Weblate, Lokalize), and a surgeon's change to an English text is never lost in the translation.
An entry whose English is no longer the file's text is stale: the patient then reads the current
English there, never a translation of the old text, and `validate` says which (`check`).

What `check` proves, for each translated text: the same numbers with the same units ("6 weeks"
must stay "6 semanas", not drift to 8), the same clock times and percentages, and the same
placeholders (`{side}` may be written `{side_m}` where Spanish needs the masculine form: "el
pie izquierdo"). Missing, stale and unknown entries are warnings (errors with `--strict`).

A protocol that extends another reads the parent's translation file, then its own: its own
entries win.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from recovery.cache import Cache, digest
from recovery.errors import Problem, ProtocolError
from recovery.files import UnreadableError, read_bounded
from recovery.protocol.model import Item, Protocol, where
from recovery.records import record
from recovery.words import count

ItemT = TypeVar("ItemT", bound=Item)

#: The most a translation file may hold: the bundled ones are about 40 KB.
MAX_BYTES = 1_000_000
#: Placeholders a translation may use in place of the original's (the same value, another form).
FORMS = {"side_m": "side"}


@record
class Translation:
    """One language's texts of a protocol: place → (the English it translates, the translation),
    and the file each place's entry came from."""

    language: str
    files: tuple[str, ...]
    texts: dict[str, tuple[str, str]]
    origins: dict[str, str]


def file_of(protocol_file: str | Path, language: str) -> Path:
    """Where a protocol file's translation into `language` lives: beside it, `<name>.<language>.po`."""
    path = Path(protocol_file)
    return path.with_name(f"{path.stem}.{language}.po")


def places(protocol: Protocol) -> Iterator[tuple[str, str]]:
    """(place, English text) for every text a patient may read, as a translation file keys them."""
    yield "title", protocol.title
    for section, item in protocol.items():
        for key, text in item.texts():
            if text:
                yield where(section, item, key), text
    for i, flag in enumerate(protocol.red_flags):
        yield f"{flag.place(i)}.sign", flag.sign
        yield f"{flag.place(i)}.action", flag.action
    for i, expected in enumerate(protocol.normal):
        yield f"normal[{i}]", expected.text
    for i, word in enumerate(protocol.words):
        yield f"words[{i}].term", word.term
        yield f"words[{i}].meaning", word.meaning
    for name, parameter in protocol.parameters.items():
        if isinstance(parameter.choices, dict):
            for key, text in parameter.choices.items():
                yield f"parameters.{name}.choices.{key}", text


def translation(protocol: Protocol, language: str, cache: Cache | None = None) -> Translation:
    """The protocol's translation into `language`, from the files beside the protocol file and
    the files it extends (a file that is not there translates nothing)."""
    files = list(dict.fromkeys(_family_files(protocol)))
    texts: dict[str, tuple[str, str]] = {}
    origins: dict[str, str] = {}
    found = []
    for source in reversed(files):  # the root first: a child's entries win
        path = file_of(source, language)
        if path.is_file():
            entries = _read(path, cache)
            texts.update(entries)
            origins.update(dict.fromkeys(entries, str(path)))
            found.append(str(path))
    return Translation(language, tuple(found), texts, origins)


def translated(protocol: Protocol, language: str, cache: Cache | None = None) -> Protocol:
    """The protocol with each text that has a current translation in `language` replaced by it;
    a text without one (missing or stale) stays English."""
    into = translation(protocol, language, cache)
    if not into.texts:
        return protocol

    def text(place: str, english: str) -> str:
        entry = into.texts.get(place)
        return entry[1] if entry is not None and entry[0] == english and entry[1] else english

    def item_texts(section: str, item: Item) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for key, english in item.texts():
            if not english:
                continue
            name, _, index = key.partition("[")
            value = text(where(section, item, key), english)
            if index:
                listed = list(changes.get(name, getattr(item, name)))
                listed[int(index.rstrip("]"))] = value
                changes[name] = listed
            else:
                changes[name] = value
        return changes

    def each(section: str, items: list[ItemT]) -> list[ItemT]:
        return [dataclasses.replace(item, **item_texts(section, item)) for item in items]

    flags = [
        dataclasses.replace(
            flag,
            sign=text(f"{flag.place(i)}.sign", flag.sign),
            action=text(f"{flag.place(i)}.action", flag.action),
        )
        for i, flag in enumerate(protocol.red_flags)
    ]
    normal = [dataclasses.replace(e, text=text(f"normal[{i}]", e.text)) for i, e in enumerate(protocol.normal)]
    words = [
        dataclasses.replace(w, term=text(f"words[{i}].term", w.term), meaning=text(f"words[{i}].meaning", w.meaning))
        for i, w in enumerate(protocol.words)
    ]
    parameters = {
        name: dataclasses.replace(
            p, choices={k: text(f"parameters.{name}.choices.{k}", v) for k, v in p.choices.items()}
        )
        if isinstance(p.choices, dict)
        else p
        for name, p in protocol.parameters.items()
    }
    return dataclasses.replace(
        protocol,
        title=text("title", protocol.title),
        red_flags=flags,
        normal=normal,
        words=words,
        parameters=parameters,
        phases=each("phases", protocol.phases),
        milestones=each("milestones", protocol.milestones),
        routines=each("routines", protocol.routines),
        appointments=each("appointments", protocol.appointments),
    )


def check(
    protocol: Protocol, language: str, cache: Cache | None = None
) -> tuple[list[Problem], list[Problem], list[str]]:
    """(errors, warnings, notes) of the protocol's translation into `language`.

    A translated text whose numbers, units, times or placeholders differ from its English is an
    error, in whichever file of the family it is. A protocol with a translation file of its own
    gets a warning for each text with no translation, each translation of an older English
    (stale) and each entry for no text. One that only inherits a translation (a clinic's file on
    a bundled protocol) gets a note: its own texts show in English to a patient of that language."""
    own = file_of(protocol.source, language)
    into = translation(protocol, language, cache)
    if not into.files:
        return [], [], []
    current = dict(places(protocol))
    errors: list[Problem] = []
    untranslated: list[Problem] = []
    for place, english in current.items():
        entry = into.texts.get(place)
        if entry is None or not entry[1]:
            untranslated.append(Problem(f"no {language} translation of {_short(english)}", str(own), place))
        elif entry[0] != english:
            untranslated.append(
                Problem(
                    f"stale {language} translation: it translates {_short(entry[0])}, and the text is now "
                    f"{_short(english)}; the patient reads the English until it is translated again",
                    str(own),
                    place,
                )
            )
        elif why := drift(english, entry[1]):
            errors.append(Problem(f"the {language} translation {why}", into.origins[place], place))
    if str(own) not in into.files:
        note = (
            f"a patient reading {language} gets {count(len(untranslated), 'text')} in English: {own.name} is not "
            f"there to translate them (the other texts come from {Path(into.files[-1]).name})"
        )
        return errors, [], [note] if untranslated else []
    untranslated += [
        Problem(f"a {language} translation of a text the protocol does not have", str(own), place)
        for place, origin in into.origins.items()
        if origin == str(own) and place not in current
    ]
    return errors, untranslated, []


#: A number as texts write it, with the unit after it if any: "6 weeks", "38.3 °C", "08:00", "25%".
_NUMBER = re.compile(
    r"(?<![\w{])(\d+(?:[.,]\d+)?(?::\d\d)?)\s*(%|°\s?[CF](?![a-z])|°|[a-zñáéíóú]+)?",
    re.IGNORECASE,
)
#: Unit words of each language, as one canonical unit.
UNIT_WORDS = {
    "minute": ("minute", "minutes", "min", "minuto", "minutos"),
    "second": ("second", "seconds", "segundo", "segundos", "s"),
    "hour": ("hour", "hours", "hora", "horas"),
    "day": ("day", "days", "día", "días", "dia", "dias"),
    "week": ("week", "weeks", "semana", "semanas"),
    "month": ("month", "months", "mes", "meses"),
    "year": ("year", "years", "año", "años"),
    "time": ("time", "times", "vez", "veces"),
    "set": ("set", "sets", "serie", "series"),
    "rep": ("rep", "reps", "repetición", "repeticiones"),
    "kg": ("kg",),
    "cm": ("cm",),
}
_UNIT = {word: unit for unit, spellings in UNIT_WORDS.items() for word in spellings}


def measures(text: str) -> Counter[tuple[str, str]]:
    """The numbers a text states, each with its unit when it has one: ("6", "week"), ("38.3", "°C")."""
    found: Counter[tuple[str, str]] = Counter()
    for number, unit in _NUMBER.findall(text):
        unit = unit.strip().replace(" ", "")
        kind = _UNIT.get(unit.lower(), unit if unit in ("%",) or unit.startswith("°") else "")
        found[(number.replace(",", "."), kind)] += 1
    return found


def placeholders(text: str) -> set[str]:
    """The placeholders of a text, the forms of `FORMS` counted as the one they stand for."""
    return {FORMS.get(name, name) for name in re.findall(r"\{([a-z_][a-z0-9_]*)\}", text)}


def drift(english: str, translated_text: str) -> str:
    """How a translation differs from its English in what must not change, or ""."""
    was, now = measures(english), measures(translated_text)
    if was != now:
        lost = sorted((was - now).elements())
        added = sorted((now - was).elements())
        parts = []
        if lost:
            parts.append("leaves out " + ", ".join(_measure(m) for m in lost))
        if added:
            parts.append("says " + ", ".join(_measure(m) for m in added))
        return f"{' and '.join(parts)}: the English says {_short(english)}"
    if placeholders(english) != placeholders(translated_text):
        return (
            f"has the placeholders {sorted(placeholders(translated_text))} where the English has "
            f"{sorted(placeholders(english))}"
        )
    return ""


def _measure(found: tuple[str, str]) -> str:
    number, unit = found
    return f'"{number} {unit}"' if unit else f'"{number}"'


def _short(text: str) -> str:
    return f'"{text}"' if len(text) <= 60 else f'"{text[:57]}…"'


def _family_files(protocol: Protocol) -> Iterator[str]:
    """The protocol's file, then the files its items came from (the files it extends)."""
    yield protocol.source
    for _, item in protocol.items():
        if item.source:
            yield item.source


#: The kind of the cache's entries that hold a translation file's entries, by the file's bytes.
KIND = "translation"


def _read(path: Path, cache: Cache | None = None) -> dict[str, tuple[str, str]]:
    """A translation file's entries by place; a file that is not a bounded regular PO file is an
    error. With a `cache`, a file read before is not parsed again: Babel's PO reader costs about
    20 ms to import, more than the rest of a Spanish calendar's difference."""
    try:
        content = read_bounded(path, MAX_BYTES, "a translation")
    except UnreadableError as error:
        raise ProtocolError([Problem(str(error), str(path))]) from None
    key = digest(b"po-entries-1", content)
    kept = cache.get(KIND, key) if cache is not None else None
    if isinstance(kept, dict) and all(isinstance(v, list) and len(v) == 2 for v in kept.values()):
        return {place: (str(v[0]), str(v[1])) for place, v in kept.items()}
    entries = _parsed(str(path), content)
    if cache is not None:
        cache.put(KIND, key, {place: list(v) for place, v in entries.items()})
    return entries


@lru_cache(maxsize=32)
def _parsed(path: str, content: bytes) -> dict[str, tuple[str, str]]:
    """A translation file's entries, parsed once per content (a server builds many plans)."""
    import io

    from babel.messages.pofile import PoFileError, read_po

    try:
        catalogue = read_po(io.BytesIO(content), abort_invalid=True)
    except (PoFileError, UnicodeDecodeError, ValueError) as error:
        raise ProtocolError([Problem(f"not a valid PO file: {error}", path)]) from None
    entries = {}
    for message in catalogue:
        if not message.id or not message.context or not isinstance(message.id, str):
            continue
        text = message.string if isinstance(message.string, str) else ""
        entries[message.context] = (message.id, "" if message.fuzzy else text)
    return entries
