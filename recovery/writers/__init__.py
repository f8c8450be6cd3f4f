"""The writers: each turns a Schedule into one output, and reads nothing but the Schedule.

- `ics` (with `vtimezone`, and `values` for iCalendar value encoding): the calendar file patients import.
- `schedule_json`: the schedule as data for other software.
- `agenda`: today's or this week's list, for a terminal.
- `timeline`: the whole course as text, for a terminal.
- `handout`: one printable HTML page (template in `templates/`).

A new output is one new module here, with a `write(schedule) -> bytes` or `render(...) -> str`.
"""
