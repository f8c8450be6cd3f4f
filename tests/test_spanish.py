"""A second language, Spanish: the calendar, the agenda, the handout and the patient's page
entirely in Spanish; the program's catalogue complete and compiled; each protocol translation
keeps its English's numbers (a planted drift is caught), and stale or missing entries are said."""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
from datetime import date, timedelta
from html import unescape
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events
import textstat
from click.testing import CliRunner
from test_plain_words import passages, sentence

from recovery import Plan, build, load
from recovery.cli import main
from recovery.language import Words, words
from recovery.protocol.translations import drift, file_of, measures
from recovery.schedule.trial import blanks_filled
from recovery.writers.handout import to_handout

from conftest import BUNDLED, HERE, blanks, run

LOCALE = HERE.parent / "recovery" / "locale"
PROTOCOLS = (
    "proximal-hamstring-repair",
    "achilles-tendon-repair",
    "proximal-hamstring-tendinopathy",
    "hamstring-syndrome",
    "hamstring-strain",
)
#: Courses whose day 0 is a first visit: their texts never speak of surgery.
#: Courses without surgery, by what their day 0 is, as the Spanish texts name it.
WITHOUT_SURGERY = {
    "proximal-hamstring-tendinopathy": "de su primera visita",
    "hamstring-syndrome": "de su primera visita",
    "proximal-hamstring-avulsion-nonoperative": "de su lesión",
    "hamstring-strain": "de su lesión",
}
#: Words that would betray English left in a Spanish text (none of them is a Spanish word).
ENGLISH = {"the", "your", "and", "of", "with", "you", "is", "for", "on", "at", "day", "days", "week", "weeks",
           "this", "it", "not", "from", "by", "are", "when", "if", "do", "leg", "knee", "after", "call", "visit"}  # fmt: skip


def english_in(text: str) -> list[str]:
    return [w for w in re.findall(r"\b[a-z]+\b", text.lower()) if w in ENGLISH]


@pytest.fixture
def missed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every program text asked for in Spanish that the catalogue does not have."""
    asked: list[str] = []
    original = Words.__call__

    def recording(self: Words, text: str) -> str:
        if self.language == "es" and text not in self.catalogue._catalog:  # type: ignore[attr-defined]
            asked.append(text)
        return original(self, text)

    monkeypatch.setattr(Words, "__call__", recording)
    return asked


# ---------------------------------------------------------------- the program's catalogue


def test_the_catalogue_holds_every_text_of_the_program_translated_and_compiled(tmp_path: Path) -> None:
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    pot = tmp_path / "now.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(HERE.parent / "babel.cfg"),
         "--no-default-keywords", "-k", "w", "-k", "self", "-k", "words", "-k", "marked", "-k", "_",
         "-k", "plural:1,2", "-o", str(pot), str(HERE.parent)],
        check=True, capture_output=True, cwd=HERE.parent, timeout=120,
    )  # fmt: skip
    extracted = {m.id for m in read_po(pot.open("rb")) if m.id}
    kept = {m.id for m in read_po((LOCALE / "recovery.pot").open("rb")) if m.id}
    assert extracted == kept, "recovery/locale/recovery.pot is out of date: see docs/translating.md"
    spanish = read_po((LOCALE / "es" / "LC_MESSAGES" / "recovery.po").open("rb"))
    translated = {m.id: m.string for m in spanish if m.id}
    assert set(translated) == extracted
    assert all(s and (all(s) if isinstance(s, tuple) else True) for s in translated.values())
    assert not [m.id for m in spanish if m.id and m.fuzzy]

    def plain(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    mo = read_mo((LOCALE / "es" / "LC_MESSAGES" / "recovery.mo").open("rb"))
    compiled = {plain(m.id): plain(m.string) for m in mo if m.id}
    translated = {plain(key): plain(value) for key, value in translated.items()}
    assert compiled == translated, "recovery.mo is not compiled from recovery.po: see docs/translating.md"
    # each translation keeps the placeholders of its English
    for english, spanish_text in translated.items():
        pairs = zip(english, spanish_text, strict=False) if isinstance(english, tuple) else [(english, spanish_text)]
        for one, other in pairs:
            assert set(re.findall(r"\{\w+\}", one)) == set(re.findall(r"\{\w+\}", other)), one


def test_dates_weekdays_and_plurals_come_from_cldr() -> None:
    w = words("es")
    assert w.long_date(date(2027, 3, 1)) == "lun 01 mar 2027"
    assert w.full_date(date(2027, 3, 1)) == "lunes, 1 de marzo de 2027"
    assert [w.count(n, "day") for n in (1, 2)] == ["1 día", "2 días"]
    assert w.count(6, "week") == "6 semanas"  # never "1 mes" (Babel's format_timedelta would say so)
    assert w.weeks_and_days(23) == "3 semanas y 2 días"
    assert w.weekday_names(("mon", "sat")) == ["lun", "sáb"]
    assert words("en").long_date(date(2027, 3, 1)) == "Mon 01 Mar 2027"


# ---------------------------------------------------------------- what a patient gets


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_spanish_calendar_is_spanish_throughout_and_marks_its_language(
    tmp_path: Path, protocol: str, missed: list[str]
) -> None:
    out = tmp_path / "es.ics"
    result = run("generate", "--protocol", protocol, "--surgery-date", "2027-03-01", "--side", "left",
                 "--language", "es", "--timezone", "America/Chicago", "-o", str(out), *blanks(protocol))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    calendar = icalendar.Calendar.from_ical(out.read_bytes())
    events = list(calendar.walk("VEVENT"))
    texts = [str(e["SUMMARY"]) for e in events] + [str(e["DESCRIPTION"]) for e in events]
    texts += [str(calendar["X-WR-CALNAME"]), str(calendar["X-WR-CALDESC"])]
    assert not [(t[:80], english_in(t)) for t in texts if english_in(t)]
    assert all(e["SUMMARY"].params.get("LANGUAGE") == "es" for e in events)
    assert all(e["DESCRIPTION"].params.get("LANGUAGE") == "es" for e in events)
    assert missed == []
    # the same days as the English calendar: a language changes words, never dates
    english = tmp_path / "en.ics"
    run("generate", "--protocol", protocol, "--surgery-date", "2027-03-01", "--side", "left",
        "--timezone", "America/Chicago", "-o", str(english), *blanks(protocol))  # fmt: skip

    def days(path: Path) -> list[object]:
        found = recurring_ical_events.of(icalendar.Calendar.from_ical(path.read_bytes())).between(
            date(2027, 3, 1), date(2028, 6, 1)
        )
        return sorted(str(e["DTSTART"].dt) for e in found)

    assert days(out) == days(english)
    welcome = next(e for e in events if "Lea primero" in str(e["SUMMARY"]))
    assert "SEÑALES DE ALARMA: cuándo pedir ayuda" in str(welcome["DESCRIPTION"])
    first = "equipo de salud" if protocol in WITHOUT_SURGERY else "cirujano y de su fisioterapeuta"
    assert f"Las indicaciones de su {first} van primero" in str(welcome["DESCRIPTION"])


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_spanish_handout_and_agenda_are_spanish_throughout(protocol: str, missed: list[str]) -> None:
    filled = blanks_filled(load(protocol))
    schedule = build(
        load(protocol), Plan(date(2027, 3, 1), side="right", language="es", large_print=True, overrides=filled)
    )
    page = to_handout(schedule)
    assert '<html lang="es" class="large">' in page
    shown = unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", page, flags=re.S)))
    assert not english_in(shown), english_in(shown)[:10]
    assert "Señales de alarma: cuándo pedir ayuda" in shown
    assert "Recorte y lleve consigo" in shown
    assert "lado derecho" in shown
    result = run("agenda", "--protocol", protocol, "--surgery-date", "2027-03-01", "--on", "2027-04-20",
                 "--language", "es", "--side", "right", *blanks(protocol))  # fmt: skip
    assert result.exit_code == 0
    assert not english_in(result.stdout), english_in(result.stdout)[:10]
    since = WITHOUT_SURGERY.get(protocol, "de la cirugía")
    assert f"mar 2027-04-20 · día 50 (7 semanas y 1 día después {since})" in result.stdout
    assert missed == []


def test_the_side_agrees_with_its_noun_in_spanish() -> None:
    schedule = build(load("proximal-hamstring-repair"), Plan(date(2027, 3, 1), side="left", language="es"))
    flags = dict(schedule.red_flags)
    assert "Un chasquido en la parte de atrás del muslo izquierdo" in "".join(flags)
    assert "en la pierna izquierda o en ese pie" in "".join(flags)


def test_the_patient_page_and_its_feed_follow_the_plan_s_language(tmp_path: Path, missed: list[str]) -> None:
    from starlette.testclient import TestClient

    from recovery.serve.app import create_app

    base = "https://recovery.clinic.example"
    client = TestClient(create_app(f"sqlite:///{tmp_path / 'r.db'}", secret_key="s", base_url=base), base_url=base)
    key = {"Authorization": f"Bearer {client.app.state.store.add_api_key('ehr')}"}  # type: ignore[attr-defined]
    surgery = date.today() - timedelta(days=50)
    made = client.post(
        "/api/plans",
        json={
            "surgery_date": surgery.isoformat(),
            "timezone": "UTC",
            "side": "left",
            "plan_id": "P-1",
            "language": "es",
        },
        headers=key,
    ).json()
    page = client.get(str(made["patient_url"]).removeprefix(base))
    assert page.status_code == 200
    assert '<html lang="es">' in page.text
    body = unescape(re.sub(r"<[^>]+>", " ", page.text.split("<body", 1)[1]))
    body = body.replace(str(made["feed_url"]), "")
    assert not english_in(body), english_in(body)[:10]
    assert "Ejercicios de hoy" in body
    assert "En los dibujos, la pierna negra es su pierna izquierda" in body
    feed = client.get(str(made["feed_url"]).removeprefix(base))
    assert "SUMMARY;LANGUAGE=es:Fase 1 · Protección" in feed.text
    handout = client.get(str(made["patient_url"]).removeprefix(base) + "/handout")
    assert '<html lang="es">' in handout.text
    assert missed == []


def test_plain_words_hold_in_spanish() -> None:
    """Fernández-Huerta (textstat, Spanish): 60-70 reads as normal, 80-90 as easy."""
    textstat.set_lang("es")
    try:
        for protocol in PROTOCOLS:
            filled = blanks_filled(load(protocol))
            schedule = build(load(protocol), Plan(date(2027, 3, 1), side="left", language="es", overrides=filled))
            scores = {
                what: textstat.fernandez_huerta(" ".join(sentence(t) for t in parts if t))
                for what, parts in passages(schedule)
            }
            assert statistics.median(scores.values()) >= 75
            assert not {what: s for what, s in scores.items() if s < 60}
        hard = (
            "La reparación excéntrica de la musculatura isquiotibial requiere progresión biomecánica individualizada."
        )
        assert textstat.fernandez_huerta(hard) < 30  # the meter tells clinical words from plain ones
    finally:
        textstat.set_lang("en_US")


# ---------------------------------------------------------------- what validate proves


def test_numbers_units_and_times_are_compared_not_words() -> None:
    assert measures("Hasta 20 minutos cada vez, 3 veces al día") == measures(
        "Up to 20 minutes at a time, 3 times a day"
    )
    assert measures("Fiebre de 38,3 °C (101 °F)") == measures("Fever of 38.3 °C (101 °F)")
    assert drift("for 6 weeks", "durante 6 semanas") == ""
    assert 'says "8 week"' in drift("for 6 weeks", "durante 8 semanas")
    assert "leaves out" in drift("at 08:00", "por la mañana")
    assert "placeholders" in drift("the {side} leg", "la pierna")
    assert drift("the back of the {side} thigh", "el muslo {side_m}") == ""


def test_a_planted_drift_a_stale_and_a_missing_translation_are_caught(tmp_path: Path) -> None:
    for name in ("proximal-hamstring-repair.toml", "proximal-hamstring-repair.es.po"):
        (tmp_path / name).write_bytes((BUNDLED / name).read_bytes())
    po = tmp_path / "proximal-hamstring-repair.es.po"
    text = po.read_text(encoding="utf-8")
    assert "durante 3 semanas" in text
    po.write_text(text.replace("durante 3 semanas", "durante 8 semanas", 1), encoding="utf-8")
    toml = tmp_path / "proximal-hamstring-repair.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('title = "Heel slides"', 'title = "Heel slides on the bed"'),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["validate", str(toml)])
    assert result.exit_code == 1
    assert (
        f'error: {po}: phases[id=protection].precautions[3]: the es translation leaves out "3 week" and says '
        f'"8 week"' in result.stderr
    )
    assert (
        f'warning: {po}: routines[id=heel-slides].title: stale es translation: it translates "Heel slides"'
        in result.stderr
    )
    # a stale translation is never shown: the patient reads the English of the file as it is now
    po.write_text(text, encoding="utf-8")
    schedule = build(load(toml), Plan(date(2027, 3, 1), language="es"))
    assert "Heel slides on the bed" in {r.title for r in schedule.routines}
    assert schedule.protocol_title == "Reparación proximal de los isquiotibiales"
    strict = CliRunner().invoke(main, ["validate", "--strict", str(toml)])
    assert strict.exit_code == 1
    po.unlink()
    assert CliRunner().invoke(main, ["validate", "--strict", str(toml)]).exit_code == 0  # no translation: English only


def test_a_clinic_file_on_a_bundled_protocol_is_told_which_texts_stay_english(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.toml"
    clinic.write_text('extends = "proximal-hamstring-repair"\nid = "clinic"\ntitle = "Clinic repair"\nversion = "1"\n')
    result = CliRunner().invoke(main, ["validate", str(clinic)])
    assert result.exit_code == 0, result.stderr
    assert "a patient reading es gets 1 text in English: clinic.es.po is not there" in result.stderr
    schedule = build(load(clinic), Plan(date(2027, 3, 1), language="es"))
    assert schedule.protocol_title == "Clinic repair"
    assert "Fase 1 · Protección" in {p.title for p in schedule.phases}  # the rest from the bundled translation


def test_a_broken_translation_file_is_a_clear_error(tmp_path: Path) -> None:
    toml = tmp_path / "proximal-hamstring-repair.toml"
    toml.write_bytes((BUNDLED / "proximal-hamstring-repair.toml").read_bytes())
    po = file_of(toml, "es")
    po.write_text('msgctxt "title"\nmsgid "Proximal hamstring repair"\nnot a keyword\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["generate", "--protocol", str(toml), "--surgery-date", "2027-03-01",
                                       "--language", "es", "-o", str(tmp_path / "x.ics")])  # fmt: skip
    assert result.exit_code == 1
    assert f"error: {po}: not a valid PO file" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.ics").exists()
    po.write_bytes(b"x" * 1_000_001)
    result = CliRunner().invoke(main, ["validate", str(toml)])
    assert "a translation may have at most 1,000,000" in result.stderr


def test_a_batch_row_may_ask_for_spanish(tmp_path: Path) -> None:
    (tmp_path / "plans.csv").write_text(
        "surgery-date,language,timezone\n2027-03-01,es,America/Chicago\n2027-03-01,en,America/Chicago\n"
    )
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "plans.csv"), "--out-dir", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    spanish = (tmp_path / "out" / "proximal-hamstring-repair-2027-03-01-line2.ics").read_text(encoding="utf-8")
    english = (tmp_path / "out" / "proximal-hamstring-repair-2027-03-01-line3.ics").read_text(encoding="utf-8")
    assert "SUMMARY;LANGUAGE=es:Fase 1 · Protección" in spanish
    assert "SUMMARY:Phase 1 · Protection" in english
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("surgery-date,language\n2027-03-01,fr\n")
    failed = CliRunner().invoke(main, ["batch", str(wrong), "--out-dir", str(tmp_path / "out2")])
    assert failed.exit_code == 1
    assert 'wrong.csv:2: language: "fr" is not "en" or "es"' in failed.output


def test_a_planted_translation_file_is_read_safely(tmp_path: Path) -> None:
    """A link to a secret is refused as PO without echoing it; a pipe or a folder in its place is
    no translation (nothing waits on it)."""
    import os

    toml = tmp_path / "proximal-hamstring-repair.toml"
    toml.write_bytes((BUNDLED / "proximal-hamstring-repair.toml").read_bytes())
    po = file_of(toml, "es")
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:the secret line\n")
    po.symlink_to(secret)
    result = CliRunner().invoke(main, ["validate", str(toml)])
    assert result.exit_code == 1
    assert f"error: {po}: not a valid PO file" in result.stderr
    assert "secret line" not in result.output
    po.unlink()
    os.mkfifo(po)
    assert CliRunner().invoke(main, ["validate", str(toml)]).exit_code == 0
    # a pipe swapped in after the look: the read refuses it at once instead of waiting for a writer
    from recovery.errors import ProtocolError
    from recovery.protocol import translations

    with pytest.raises(ProtocolError, match="not a regular file"):
        translations._read(po)
    po.unlink()
    po.mkdir()
    assert CliRunner().invoke(main, ["validate", str(toml)]).exit_code == 0
