"""Protocol files are validated like config.toml: errors name the file, the key and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from followup.errors import ConfigError
from followup.protocol import load_protocol, load_protocols

SCHEDULES = Path(__file__).resolve().parents[1] / "schedules"

GOOD = """
id = "short"
name = "Short"

[[checkpoints]]
name = "intake"
subject = "participant"
anchor = "enrolment"
"""


def write(tmp_path: Path, text: str, name: str = "short") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["undp-serbia", "wwp-europe"])
def test_the_shipped_protocols_are_valid(name):
    protocol = load_protocol(SCHEDULES / f"{name}.toml")
    assert protocol.id == name
    subjects = {c.subject for c in protocol.checkpoints}
    assert subjects == {"participant", "partner"}


def test_the_undp_protocol_follows_the_man_and_his_partner_three_and_six_months_after():
    protocol = load_protocol(SCHEDULES / "undp-serbia.toml")
    for name in ("end_of_programme", "followup_3m", "followup_6m"):
        assert protocol.checkpoint(name, "participant") is not None
        assert protocol.checkpoint(name, "partner").on_dropout == "continue"
        assert protocol.checkpoint(name, "partner").anchor == "end_of_participation"
    assert str(protocol.checkpoint("partner_checkin", "partner").repeat_every) == "4 weeks"


def test_a_label_change_is_not_a_new_revision(tmp_path):
    plain = load_protocol(write(tmp_path, GOOD))
    labelled = load_protocol(
        write(tmp_path, GOOD.replace('name = "intake"', 'name = "intake"\nlabel = "Intake"'))
    )
    moved = load_protocol(write(tmp_path, GOOD + 'offset = "1 week"\n'))
    assert plain.revision == labelled.revision
    assert plain.revision != moved.revision


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('offest = "1 week"\n', 'checkpoints[0].offest: unknown key. Hint: did you mean "offset"?'),
        (
            'offset = "a fortnight"\n',
            'checkpoints[0].offset: expected a duration such as "14 days", "4 weeks" or "3 months", '
            "got 'a fortnight'. Hint: time after the anchor",
        ),
        (
            "window_after_days = -3\n",
            "checkpoints[0].window_after_days: Input should be greater than or equal to 0",
        ),
    ],
)
def test_a_bad_checkpoint_is_refused_with_the_key_path(tmp_path, extra, message):
    path = write(tmp_path, GOOD + extra)
    with pytest.raises(ConfigError) as error:
        load_protocol(path)
    assert f"{path}: {message}" in str(error.value)


def test_continuing_after_a_dropout_from_completion_is_refused_with_the_fix(tmp_path):
    path = write(
        tmp_path,
        GOOD.replace('"participant"', '"partner"').replace('"enrolment"', '"completion"')
        + 'on_dropout = "continue"\n',
    )
    with pytest.raises(ConfigError, match='anchor it on "end_of_participation"'):
        load_protocol(path)


def test_the_id_must_match_the_file_name(tmp_path):
    path = write(tmp_path, GOOD, name="other")
    with pytest.raises(ConfigError) as error:
        load_protocol(path)
    assert (
        str(error.value)
        == f'{path}: id: "short" differs from the file name. Hint: write id = "other" or rename the file'
    )


def test_an_active_protocol_without_a_file_names_the_ones_there_are(tmp_path):
    write(tmp_path, GOOD)
    with pytest.raises(ConfigError) as error:
        load_protocols(tmp_path, ["missing"])
    assert (
        'protocol "missing" is listed in protocols.active but has no file. Hint: available protocols: short'
        in str(error.value)
    )


def test_a_label_is_one_text_for_every_language_or_one_per_language(tmp_path):
    from followup.protocol import checkpoint_label

    plain = load_protocol(
        write(tmp_path, GOOD.replace('subject = "', 'label = "Intake"\nsubject = "'))
    )
    assert [c.label_in(lang) for c in plain.checkpoints for lang in ("en", "sq")] == ["Intake"] * 2
    text = GOOD.replace('subject = "', 'label = { en = "Intake", sr-Latn = "Prijem" }\nsubject = "')
    per_language = load_protocol(write(tmp_path, text))
    assert checkpoint_label([per_language], "intake", "participant", "sr-Latn") == "Prijem"
    assert checkpoint_label([per_language], "intake", "participant", "sq") == "Intake"  # English
    assert checkpoint_label([per_language], "intake", None, "sr-Latn") == "Prijem"
    assert checkpoint_label([per_language], "gone_now", "partner", "sq") == "Gone now"
    assert per_language.revision == plain.revision  # a translation moves no date


def test_a_label_in_a_language_the_service_does_not_speak_names_the_file_the_key_and_the_fix(
    tmp_path,
):
    text = GOOD.replace('subject = "', 'label = { en = "Intake", de = "Aufnahme" }\nsubject = "')
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as refused:
        load_protocol(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: checkpoints[0].label: ")
    assert '"de" is not a language' in message and "en, sr-Latn, sq" in message
    assert "\n" not in message


def test_an_empty_label_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"label\.sq is empty"):
        load_protocol(write(tmp_path, GOOD.replace('subject = "', 'label.sq = " "\nsubject = "')))
