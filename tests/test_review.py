"""Clinical review rules: every number traces to a source, and no variant contradicts itself."""

import pytest

from conftest import BUNDLED, copied, protocol_file, run


def refused(path) -> str:
    """What `validate` says about a file it refuses."""
    result = run("validate", str(path))
    assert result.exit_code == 1
    return result.stderr


@pytest.mark.parametrize("path", sorted(BUNDLED.glob("*.toml")), ids=lambda p: p.stem)
def test_every_number_in_a_bundled_protocol_has_a_source(path) -> None:
    result = run("validate", "--strict", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


def test_a_dose_without_a_source_is_a_warning_and_an_error_when_strict() -> None:
    path = protocol_file("dose-without-a-source")
    result = run("validate", str(path))
    assert result.exit_code == 0
    warning = f"warning: {path}: routines[id=quad-sets]: a dose without a source"
    assert warning in result.stderr
    assert f"ok: {path} (1 warning)" in result.stdout
    strict = run("validate", "--strict", str(path))
    assert strict.exit_code == 1
    assert f"error: {path}: routines[id=quad-sets]: a dose without a source" in strict.stderr
    # a calendar is still made: the surgeon's own file is the surgeon's decision
    assert run("generate", "--protocol", str(path), "--surgery-date", "2027-03-01", "-o", "-").exit_code == 0


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('description = "Ice for 20 minutes."', '"20 minutes"'),
        ('description = "Bend to 45° at most."', '"45°"'),
        ('description = "Up to 25-50% of your weight."', '"25-50%"'),
        ('at = "6 weeks"', 'at = "6 weeks"'),
    ],
)
def test_a_dose_duration_or_angle_in_a_text_or_time_needs_a_source(tmp_path, text: str, found: str) -> None:
    at = "" if "at =" in text else 'at = "end of early"\n'
    path = copied("one-sourced-phase", tmp_path)
    path.write_text(path.read_text() + f'\n[[milestones]]\nid = "step"\ntitle = "Step"\n{text}\n{at}')
    result = run("validate", str(path))
    assert f"milestones[id=step]: {found} without a source" in result.stderr
    tagged = copied("one-sourced-phase", tmp_path)
    tagged.write_text(
        tagged.read_text() + f'\n[[milestones]]\nid = "step"\ntitle = "Step"\nsources = ["H6"]\n{text}\n{at}'
    )
    assert run("validate", "--strict", str(tagged)).exit_code == 0


def test_a_numbered_title_is_not_a_dose() -> None:
    # "Phase 2" counts phases; "day 0" is the surgery day: neither needs a source
    result = run("validate", "--strict", protocol_file("numbered-titles"))
    assert result.exit_code == 0, result.stderr


def test_a_source_tag_must_be_a_reference() -> None:
    path = protocol_file("invalid/source-tag-not-a-reference")
    assert (
        f'error: {path}: phases[id=early].sources: "H7" is not the tag of a reference; references are written '
        '"H7: author, title, address"; the tags are "H6"'
    ) in refused(path)


def test_a_clinic_that_changes_a_number_needs_its_own_source() -> None:
    result = run("validate", protocol_file("clinic-number-without-a-source"))
    assert "parameters.protection_weeks: the number 4 without a source" in result.stderr
    strict = run("validate", "--strict", protocol_file("clinic-number-with-its-source"))
    assert strict.exit_code == 0
    assert [line for line in strict.stderr.splitlines() if not line.startswith("note:")] == []
    # a digit that is no dose keeps the inherited sources; a new duration drops them
    result = run("validate", protocol_file("clinic-new-duration-in-a-text"))
    assert "phases[id=protection]" not in result.stderr
    assert (
        'phases[id=walking]: end = "later of 12 weeks, end of protection + 6 weeks, crutches-away + 1 week" without a source'
        in result.stderr
    )


def test_a_variant_may_not_keep_a_step_inside_a_phase_it_turns_off() -> None:
    path = protocol_file("invalid/variant-keeps-a-step-of-a-phase-it-turns-off")
    assert (
        f'error: {path}: routines[id=brace-check].during: refers to "brace", which the variant "no-brace" turns off '
        '(only_if = "brace"); give this item only_if = "brace" too, or refer to something that stays'
    ) in refused(path)


def test_a_variant_may_not_empty_a_text_that_a_step_shows() -> None:
    path = protocol_file("invalid/variant-empties-a-shown-text")
    assert 'phases[id=early].brace: shows {brace_type}, which the variant "no-brace" sets to nothing' in refused(path)


def test_the_hamstring_accelerated_variant_reads_right() -> None:
    # the contradiction the rule is for: the accelerated course stops the crutches at about 2 weeks
    shown = run("show", "proximal-hamstring-repair", "--variant", "accelerated").stdout
    assert "Stop using the crutches" not in shown
    assert "Walk without crutches" not in shown
    assert "Brace" not in shown


def test_a_named_choice_is_typed_short_and_read_in_full(tmp_path) -> None:
    typo = run("generate", "--surgery-date", "2027-03-01", "--set", "dressing=waterprof", "-o", str(tmp_path / "x.ics"))
    assert typo.exit_code == 1
    assert 'did you mean "waterproof"?' in typo.stderr
    assert not (tmp_path / "x.ics").exists()
    shown = run("agenda", "--surgery-date", "2027-03-01", "--on", "2027-03-05", "--set", "dressing=waterproof")
    assert "Washing: Your dressing is waterproof. You may shower with it on." in shown.stdout
    listed = run("show", "proximal-hamstring-repair", "--parameters").stdout
    assert "      waterproof: Your dressing is waterproof." in listed


def test_a_choice_name_must_be_typeable() -> None:
    path = protocol_file("invalid/choice-name-not-typeable")
    assert '"Yes": a choice\'s name uses lower-case letters, digits, - and _' in refused(path)
