"""Re-importing a corrected plan: the same events are updated, nothing is doubled, nothing stale rings.

`UidCalendar` models a calendar that imports by UID, as CalDAV servers do: an event with a
higher SEQUENCE replaces the one it holds, a CANCELLED one removes it, and an event with the
same SEQUENCE is taken as a duplicate and ignored. For each change a surgeon or patient makes,
importing the `--update` file over the old plan must leave exactly what a fresh import of the
new plan gives.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import icalendar
import pytest

from conftest import EPOCH, generate, run

BASE = ("--surgery-date", "2027-03-01", "--timezone", "Europe/Berlin", "--side", "left")
LATER = str(int(EPOCH) + 86_400 * 30)  # the update is made a month later
NOT_CONTENT = {"DTSTAMP", "SEQUENCE", "X-RECOVERY-CONTENT"}


def write(tmp_path: Path, name: str, *args: str, epoch: str = EPOCH) -> Path:
    out = tmp_path / name
    result = run("generate", *args, "-o", str(out), env={"SOURCE_DATE_EPOCH": epoch})
    assert result.exit_code == 0, result.stderr
    return out


def content(event: icalendar.Event, revision: bool = False) -> tuple[str, ...]:
    """What the patient sees of an event; the Read first's revision line is about the file, not the plan."""
    lines = []
    for line in event.to_ical().decode().replace("\r\n ", "").split("\r\n"):
        name = line.split(":", 1)[0].split(";", 1)[0]
        if name and name not in NOT_CONTENT:
            lines.append(line)
    return tuple(line for line in lines if revision or "Plan revision" not in line)


class UidCalendar:
    """A calendar that imports by UID: higher SEQUENCE replaces, CANCELLED removes, equal SEQUENCE is ignored."""

    def __init__(self) -> None:
        self.held: dict[str, tuple[int, icalendar.Event | None]] = {}

    def import_file(self, path: Path) -> UidCalendar:
        for event in icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT"):
            uid, sequence = str(event["UID"]), int(event.get("SEQUENCE", 0))
            if uid in self.held and sequence <= self.held[uid][0]:
                continue
            cancelled = str(event.get("STATUS", "")).upper() == "CANCELLED"
            self.held[uid] = (sequence, None if cancelled else event)
        return self

    def shown(self) -> dict[str, tuple[str, ...]]:
        return {uid: content(event) for uid, (_, event) in self.held.items() if event is not None}


CHANGES = {
    "side": ("--side", "right"),
    "calendar name": ("--calendar-name", "Knee, left: recovery"),
    "morning time": ("--time", "morning=07:15"),
    "alarm": ("--alarm-minutes", "10"),
    "zone": ("--timezone", "America/New_York"),
    "variant": ("--variant", "accelerated"),
    "parameter": ("--set", "protection_weeks=4"),
    "item turned on": ("--set", "clot_prevention=as prescribed by your surgeon"),
    "actual date": ("--actual", "brace-off=2027-04-20"),
    "late start": ("--from", "2027-04-01"),
    "surgery date": ("--surgery-date", "2027-03-08"),
    "discreet": ("--discreet",),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_an_update_leaves_exactly_the_new_plan(tmp_path, change: tuple[str, ...]) -> None:
    old = write(tmp_path, "old.ics", *BASE)
    new_args = (*BASE, *change)
    update = write(tmp_path, "update.ics", *new_args, "--update", str(old), epoch=LATER)
    fresh = write(tmp_path, "fresh.ics", *new_args, epoch=LATER)

    updated = UidCalendar().import_file(old).import_file(update).shown()
    expected = UidCalendar().import_file(fresh).shown()
    history = set(updated) - set(expected)
    if "--from" in change:  # what lies wholly before --from stays as it was: history
        assert history
        for uid in history:
            assert updated[uid] == UidCalendar().import_file(old).shown()[uid]
        updated = {uid: shown for uid, shown in updated.items() if uid not in history}
    assert updated == expected


def test_an_item_turned_off_is_cancelled_and_its_alarms_stop(tmp_path) -> None:
    old = write(tmp_path, "old.ics", *BASE, "--set", "clot_prevention=as prescribed")
    update = write(tmp_path, "update.ics", *BASE, "--set", "clot_prevention=", "--update", str(old), epoch=LATER)
    cancelled = [e for e in icalendar.Calendar.from_ical(update.read_bytes()).walk("VEVENT") if e.get("STATUS")]
    assert cancelled
    assert all(str(e["STATUS"]) == "CANCELLED" for e in cancelled)
    assert all(not e.walk("VALARM") for e in cancelled)
    assert (
        UidCalendar().import_file(old).import_file(update).shown().keys().isdisjoint(str(e["UID"]) for e in cancelled)
    )


def test_unchanged_events_keep_their_sequence_and_changed_ones_go_up_by_one(tmp_path) -> None:
    old = write(tmp_path, "old.ics", *BASE)
    update = write(tmp_path, "update.ics", *BASE, "--actual", "brace-off=2027-04-20", "--update", str(old))
    before = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(old.read_bytes()).walk("VEVENT")}
    after = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(update.read_bytes()).walk("VEVENT")}
    assert before.keys() == after.keys()
    sequences = {uid: int(after[uid]["SEQUENCE"]) for uid in after}
    changed = {uid for uid in after if content(after[uid], revision=True) != content(before[uid], revision=True)}
    assert changed
    assert len(changed) < len(after)
    assert {uid: sequences[uid] for uid in after} == {uid: (1 if uid in changed else 0) for uid in after}
    again = write(tmp_path, "again.ics", *BASE, "--actual", "brace-off=2027-04-20", "--update", str(update))
    # The same plan once more: only the Read first event (which names the revision) changes.
    rewritten = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(again.read_bytes()).walk("VEVENT")}
    went_up = {str(rewritten[uid]["SUMMARY"]) for uid in rewritten if int(rewritten[uid]["SEQUENCE"]) != sequences[uid]}
    assert went_up == {"Read first: how to use this calendar, and when to call for help"}


def test_every_file_shows_its_revision(tmp_path) -> None:
    first = write(tmp_path, "first.ics", *BASE)
    second = write(tmp_path, "second.ics", *BASE, "--side", "right", "--update", str(first), epoch=LATER)
    for path, revision in ((first, 1), (second, 2)):
        calendar = icalendar.Calendar.from_ical(path.read_bytes())
        assert str(calendar["X-WR-CALNAME"]).endswith(f"(revision {revision})")
        welcome = next(e for e in calendar.walk("VEVENT") if str(e["SUMMARY"]).startswith("Read first"))
        assert f"Plan revision {revision}, made on" in str(welcome["DESCRIPTION"])
    assert "it replaces revision 1" in second.read_text()


@pytest.mark.parametrize("change", [("--side", "right"), ("--calendar-name", "Mine"), ("--time", "evening=20:00")])
def test_what_a_patient_corrects_does_not_change_any_uid(tmp_path, change: tuple[str, ...]) -> None:
    def uids(path: Path) -> set[str]:
        return {str(e["UID"]) for e in icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")}

    assert uids(write(tmp_path, "a.ics", *BASE)) == uids(write(tmp_path, "b.ics", *BASE, *change))


def test_a_plan_id_tells_two_plans_in_one_calendar_apart(tmp_path) -> None:
    left = write(tmp_path, "left.ics", *BASE, "--plan-id", "left leg")
    right = write(tmp_path, "right.ics", *BASE, "--side", "right", "--plan-id", "right leg")
    both = UidCalendar().import_file(left).import_file(right).shown()
    assert len(both) == len(UidCalendar().import_file(left).shown()) * 2


def test_update_refuses_a_file_it_did_not_write(tmp_path) -> None:
    foreign = tmp_path / "other.ics"
    foreign.write_bytes(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Other//EN\r\nEND:VCALENDAR\r\n")
    target = tmp_path / "new.ics"
    result = run("generate", *BASE, "--update", str(foreign), "-o", str(target))
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"error: --update {foreign}: this calendar was not written by recovery; give the file it wrote last\n"
    )
    assert not target.exists()


def test_update_refuses_another_plans_file(tmp_path) -> None:
    other = write(tmp_path, "other.ics", *BASE, "--plan-id", "right leg")
    result = run("generate", *BASE, "--plan-id", "left leg", "--update", str(other), "-o", str(tmp_path / "new.ics"))
    assert result.exit_code == 1
    assert "belongs to another plan" in result.stderr


def test_a_history_event_wholly_before_from_is_neither_written_nor_cancelled(tmp_path) -> None:
    old = write(tmp_path, "old.ics", *BASE)
    update = write(tmp_path, "update.ics", *BASE, "--from", "2027-05-01", "--update", str(old), epoch=LATER)
    events = icalendar.Calendar.from_ical(update.read_bytes()).walk("VEVENT")
    assert not [e for e in events if e.get("STATUS")]
    for event in events:
        start = event["DTSTART"].dt
        assert (start.date() if isinstance(start, datetime) else start) >= date(2027, 5, 1) or "RRULE" in event


def with_events(path: Path, *events: str) -> bytes:
    """The calendar file with these events (content lines, "\\n"-separated) added before its end."""
    data = path.read_bytes()
    added = "".join("BEGIN:VEVENT\r\n" + event.replace("\n", "\r\n") + "\r\nEND:VEVENT\r\n" for event in events)
    return data.replace(b"END:VCALENDAR\r\n", added.encode() + b"END:VCALENDAR\r\n")


def test_update_touches_only_its_own_events(tmp_path) -> None:
    """Another app's event in the file is neither cancelled nor copied; a cancelled event of ours
    repeats only what this program writes, never an attendee, organizer or link added since."""
    old = write(tmp_path, "old.ics", *BASE, "--set", "clot_prevention=as prescribed")
    first = write(tmp_path, "first.ics", *BASE, "--set", "clot_prevention=", "--update", str(old), epoch=LATER)
    uid = next(
        str(e["UID"]) for e in icalendar.Calendar.from_ical(first.read_bytes()).walk("VEVENT") if e.get("STATUS")
    )
    dentist = "UID:dentist-123@google.com\nSUMMARY:Dentist\nDTSTART:20270310T090000Z\nDTEND:20270310T100000Z"
    text = with_events(old, dentist).decode()
    added = "ATTENDEE:mailto:someone@example.org\r\nORGANIZER:mailto:x@example.org\r\nURL:https://example.org/\r\n"
    old.write_bytes(text.replace(f"UID:{uid}\r\n", f"UID:{uid}\r\n{added}", 1).encode())
    update = write(tmp_path, "update.ics", *BASE, "--set", "clot_prevention=", "--update", str(old), epoch=LATER)
    written = update.read_bytes()
    assert b"dentist-123" not in written
    for added in (b"ATTENDEE", b"ORGANIZER", b"URL:"):
        assert added not in written
    cancelled = [e for e in icalendar.Calendar.from_ical(written).walk("VEVENT") if e.get("STATUS")]
    assert uid in {str(e["UID"]) for e in cancelled}


@pytest.mark.parametrize(
    "event",
    [
        # a rule this program never writes, which an unbounded reader would expand without end
        "UID:stale-1@plan.invalid\nX-RECOVERY-CONTENT:x\nSUMMARY:Old\nDTSTART:20270301T080000\nDTEND:20270301T081000\nRRULE:FREQ=SECONDLY",
        "UID:stale-2@plan.invalid\nX-RECOVERY-CONTENT:x\nSUMMARY:No start",
        "UID:stale-3@plan.invalid\nX-RECOVERY-CONTENT:x\nSUMMARY:Bad until\nDTSTART:20270301T080000\nDTEND:20270301T081000\nRRULE:FREQ=DAILY;UNTIL=notadate",
        "UID:stale-4@plan.invalid\nX-RECOVERY-CONTENT:x\nSUMMARY:Bad zone\nDTSTART;TZID=Nowhere/Land:20270601T080000\nDTEND;TZID=Nowhere/Land:20270601T081000",
    ],
    ids=["secondly", "no-start", "bad-until", "bad-zone"],
)
def test_an_odd_old_event_of_ours_is_cancelled_quickly_not_a_crash(tmp_path, event: str) -> None:
    import time

    old = write(tmp_path, "old.ics", *BASE)
    old.write_bytes(with_events(old, event))
    began = time.monotonic()
    out = tmp_path / "update.ics"
    result = run("generate", *BASE, "--from", "2027-05-01", "--update", str(old), "-o", str(out))
    assert time.monotonic() - began < 10
    assert result.exit_code in (0, 1), result.stderr
    if result.exit_code == 0:
        uid = event.split("\n")[0].removeprefix("UID:")
        cancelled = {
            str(e["UID"]) for e in icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT") if e.get("STATUS")
        }
        assert uid in cancelled
    else:
        assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("shape", ["many events", "many properties"])
def test_a_previous_file_far_larger_than_a_plan_is_refused_in_one_line(tmp_path, shape: str) -> None:
    import time

    old = write(tmp_path, "old.ics", *BASE)
    if shape == "many events":
        filler = [f"UID:x{i}@elsewhere\nSUMMARY:x\nDTSTART:20270301T080000Z" for i in range(5_000)]
        old.write_bytes(with_events(old, *filler))
    else:
        old.write_bytes(with_events(old, "UID:big@plan.invalid\n" + "\n".join(f"X-P{i}:v" for i in range(200_000))))
    began = time.monotonic()
    result = run("generate", *BASE, "--update", str(old), "-o", str(tmp_path / "update.ics"))
    assert time.monotonic() - began < 5
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert "is more than a plan's calendar holds" in line
    assert not (tmp_path / "update.ics").exists()


def test_update_keeps_the_earlier_choices_unless_the_command_changes_them(tmp_path) -> None:
    old = write(tmp_path, "old.ics", *BASE, "--time", "morning=07:30", "--actual", "brace-off=2027-04-15")
    out = tmp_path / "update.ics"
    result = run(
        "generate", "--surgery-date", "2027-03-01", "--alarm-minutes", "10", "--update", str(old), "-o", str(out)
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "note: changed from revision 1: --alarm-minutes 0 → 10; kept: --timezone --side --time --actual\n"
    )
    fresh = write(
        tmp_path,
        "fresh.ics",
        *BASE,
        "--time",
        "morning=07:30",
        "--actual",
        "brace-off=2027-04-15",
        "--alarm-minutes",
        "10",
    )
    assert UidCalendar().import_file(old).import_file(out).shown() == UidCalendar().import_file(fresh).shown()
    # NAME= forgets a recorded pair: the brace-off day goes back to the planned one
    again = tmp_path / "again.ics"
    result = run(
        "generate", "--surgery-date", "2027-03-01", "--actual", "brace-off=", "--update", str(out), "-o", str(again)
    )
    assert result.exit_code == 0, result.stderr
    assert "--actual brace-off=2027-04-15 → brace-off (none)" in result.stderr
    planned = write(tmp_path, "planned.ics", *BASE, "--time", "morning=07:30", "--alarm-minutes", "10")
    assert UidCalendar().import_file(out).import_file(again).shown() == UidCalendar().import_file(planned).shown()


def test_a_pair_without_a_value_is_refused_without_an_earlier_calendar(tmp_path) -> None:
    out = tmp_path / "plan.ics"
    result = run("generate", *BASE, "--actual", "brace-off=", "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr == (
        "error: --actual brace-off=: no value: NAME= only forgets what an earlier calendar recorded (with --update)\n"
    )
    assert not out.exists()


def test_a_stored_calendar_reads_back_without_icalendar_as_icalendar_reads_it(tmp_path) -> None:
    """The server makes each revision over its own stored calendar with `read_written`, a line
    reader; it must find what `read_previous` (icalendar) finds: the plan, the revision, and each
    event's SEQUENCE, content hash and cancellation, through changes that cancel events."""
    from recovery.writers.previous import read_previous, read_written

    first = generate(tmp_path, "--surgery-date", "2027-03-01", "--timezone", "America/New_York")
    (tmp_path / "one.ics").write_bytes(first)
    second = generate(
        tmp_path, "--surgery-date", "2027-03-01", "--timezone", "America/New_York", "--variant", "accelerated",
        "--update", str(tmp_path / "one.ics"),
    )  # fmt: skip
    (tmp_path / "two.ics").write_bytes(second)
    third = generate(
        tmp_path,
        "--surgery-date",
        "2027-03-01",
        "--timezone",
        "America/New_York",
        "--update",
        str(tmp_path / "two.ics"),
    )
    for data in (first, second, third):
        slow, fast = read_previous(data, "x"), read_written(data)
        assert (fast.plan, fast.revision) == (slow.plan, slow.revision)
        assert {u: (e.sequence, e.content, e.cancelled) for u, e in fast.events.items()} == {
            u: (e.sequence, e.content, e.cancelled) for u, e in slow.events.items()
        }
        for uid, event in fast.events.items():  # the text, read when needed, is the same event
            assert event.parsed().to_ical() == slow.events[uid].parsed().to_ical()
    assert any(e.cancelled for e in read_written(third).events.values())
    assert any(e.sequence > 0 for e in read_written(third).events.values())
