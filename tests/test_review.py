"""Clinical review rules: every number traces to a source, and no variant contradicts itself."""

import pytest

from conftest import BUNDLED, RED_FLAG, run

HEAD = 'id = "clinic"\ntitle = "Clinic"\nversion = "1"\nreferences = ["H6: B. Forsythe MD, Open hamstring repair"]\n'
PHASE = '[[phases]]\nid = "early"\ntitle = "Phase 1 · Early"\nstart = "day 0"\nend = "day 20"\nsources = ["H6"]\n'


def refused(path) -> str:
    """What `validate` says about a file it refuses."""
    result = run("validate", str(path))
    assert result.exit_code == 1
    return result.stderr


def write(tmp_path, text: str):
    path = tmp_path / "clinic.toml"
    path.write_text(HEAD + text + RED_FLAG)
    return path


@pytest.mark.parametrize("path", sorted(BUNDLED.glob("*.toml")), ids=lambda p: p.stem)
def test_every_number_in_a_bundled_protocol_has_a_source(path) -> None:
    result = run("validate", "--strict", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


def test_a_dose_without_a_source_is_a_warning_and_an_error_when_strict(tmp_path) -> None:
    path = write(
        tmp_path,
        PHASE + '[[routines]]\nid = "quad-sets"\ntitle = "Quad sets"\nduring = "early"\ntimes = ["morning"]\n'
        "dose = { sets = 3, reps = 10 }\n",
    )
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
    path = write(
        tmp_path,
        PHASE
        + f'[[milestones]]\nid = "step"\ntitle = "Step"\n{text}\n'
        + ("" if "at =" in text else 'at = "end of early"\n'),
    )
    result = run("validate", str(path))
    assert f"milestones[id=step]: {found} without a source" in result.stderr
    tagged = write(
        tmp_path,
        PHASE
        + f'[[milestones]]\nid = "step"\ntitle = "Step"\nsources = ["H6"]\n{text}\n'
        + ("" if "at =" in text else 'at = "end of early"\n'),
    )
    assert run("validate", "--strict", str(tagged)).exit_code == 0


def test_a_numbered_title_is_not_a_dose(tmp_path) -> None:
    # "Phase 2" counts phases; "day 0" is the surgery day: neither needs a source
    path = write(tmp_path, PHASE + '[[milestones]]\nid = "next"\ntitle = "Phase 2 · Next"\nat = "day 0"\n')
    result = run("validate", "--strict", str(path))
    assert result.exit_code == 0, result.stderr


def test_a_source_tag_must_be_a_reference(tmp_path) -> None:
    path = write(tmp_path, PHASE.replace('sources = ["H6"]', 'sources = ["H7"]'))
    assert (
        f'error: {path}: phases[id=early].sources: "H7" is not the tag of a reference; references are written '
        '"H7: author, title, address"; the tags are "H6"'
    ) in refused(path)


def test_a_clinic_that_changes_a_number_needs_its_own_source(tmp_path) -> None:
    path = tmp_path / "clinic.toml"
    path.write_text(
        'id = "clinic"\nextends = "proximal-hamstring-repair"\n[parameters.protection_weeks]\ndefault = 4\n'
    )
    result = run("validate", str(path))
    assert "parameters.protection_weeks: the number 4 without a source" in result.stderr
    path.write_text(
        'id = "clinic"\nextends = "proximal-hamstring-repair"\nreferences = ["C1: our committee, 2026"]\n'
        '[parameters.protection_weeks]\ndefault = 4\nsources = ["C1"]\n'
        '[[routines]]\nid = "ice"\ntitle = "Ice the back of your thigh"\n'  # a new title vouches for no number
    )
    assert run("validate", "--strict", str(path)).stderr == ""
    # a digit that is no dose keeps the inherited sources; a new duration drops them
    path.write_text(
        'id = "clinic"\nextends = "proximal-hamstring-repair"\n'
        '[[phases]]\nid = "protection"\ntitle = "Phase 1 · Keep it safe"\n'
        '[[phases]]\nid = "walking"\ndescription = "Walk for 3 weeks."\n'
    )
    result = run("validate", str(path))
    assert "phases[id=protection]" not in result.stderr
    assert (
        'phases[id=walking]: end = "later of 12 weeks, end of protection + 6 weeks" without a source' in result.stderr
    )


def test_a_variant_may_not_keep_a_step_inside_a_phase_it_turns_off(tmp_path) -> None:
    path = write(
        tmp_path,
        "[parameters.brace]\ndefault = true\n[variants.no-brace]\nset = { brace = false }\n"
        + PHASE
        + '[[phases]]\nid = "brace"\ntitle = "Brace on"\nonly_if = "brace"\nstart = "day 0"\nend = "day 20"\n'
        'overlaps = ["early"]\n'
        '[[routines]]\nid = "brace-check"\ntitle = "Check the brace straps"\nduring = "brace"\ntimes = ["evening"]\n'
        'sources = ["H6"]\n',
    )
    assert (
        f'error: {path}: routines[id=brace-check].during: refers to "brace", which the variant "no-brace" turns off '
        '(only_if = "brace"); give this item only_if = "brace" too, or refer to something that stays'
    ) in refused(path)


def test_a_variant_may_not_empty_a_text_that_a_step_shows(tmp_path) -> None:
    path = write(
        tmp_path,
        '[parameters.brace_type]\ndefault = "Knee brace"\n[variants.no-brace]\nset = { brace_type = "" }\n'
        + PHASE.replace('end = "day 20"', 'end = "day 20"\nbrace = "{brace_type}, day and night"'),
    )
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


def test_a_choice_name_must_be_typeable(tmp_path) -> None:
    path = write(
        tmp_path, PHASE + '[parameters.bed]\ndefault = "Yes"\n[parameters.bed.choices]\n"Yes" = "Wear it in bed."\n'
    )
    assert '"Yes": a choice\'s name uses lower-case letters, digits, - and _' in refused(path)
