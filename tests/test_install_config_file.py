"""`install` writes ids into the admin's config file by changing only the lines of those keys:
every other byte stays (comments, their columns, flow lists, `null`, long templates), a second
write of the same ids changes nothing, and a layout it cannot edit is left alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from connector.config import embedded_defaults_text
from connector.errors import ConfigError
from connector.install.config_file import set_keys, with_values
from connector.install.installed import Installed

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = (REPO / "config" / "connector.example.yaml").read_text("utf-8")
# What a real install finds: Zendesk ids of 12-14 digits, a ULID webhook, a numeric Jira id.
FIELD_IDS = {
    "owning_team": 360012345678,
    "known_problem": 360012345679,
    "suggested_problem": 360012345680,
    "jira_issue": 22340589473181,
    "jira_status": 22340589473182,
    "expected_fix": 22340589473183,
    "solution": 22340589473184,
    "solution_kind": 22340589473185,
}
INSTALLED = Installed(
    fields=FIELD_IDS,
    zendesk_webhook_id="01HX9ZQ4V7B2M6K8N3P5R7T9W1",
    zendesk_trigger_id=360098765432,
    jira_webhook_id="1",
).config_values()


def value_lines(text: str) -> set[int]:
    """Line numbers (0-based) of the keys install writes, found by their key and indentation."""
    rows = set()
    for row, line in enumerate(text.splitlines()):
        key = line.strip().split(":", 1)[0]
        if (line.startswith("    ") and key in FIELD_IDS) or line.startswith(
            ("  webhook_id:", "  trigger_id:")
        ):
            rows.add(row)
    return rows


@pytest.mark.parametrize(
    "original", [EXAMPLE, embedded_defaults_text()], ids=["example", "embedded-defaults"]
)
def test_install_changes_only_the_id_lines_byte_for_byte(tmp_path: Path, original: str) -> None:
    path = tmp_path / "connector.yaml"
    path.write_text(original, "utf-8")

    assert set_keys(path, INSTALLED) is True

    written = path.read_text("utf-8")
    before, after = original.splitlines(keepends=True), written.splitlines(keepends=True)
    assert len(after) == len(before)
    ids = value_lines(original)
    assert len(ids) == 11
    for row, (old, new) in enumerate(zip(before, after, strict=True)):
        if row not in ids:
            assert new == old, f"line {row + 1} changed: {old!r} -> {new!r}"
            continue
        key = old.split(":", 1)[0]
        assert new.startswith(key + ": ")
        if "#" in old:  # the comment stays, in its column when the id leaves room
            comment = old[old.index("#") :]
            assert new.endswith(" " + comment)
            if len(new) - len(comment) <= old.index("#"):
                assert new.index("#") == old.index("#")
    data = yaml.safe_load(written)
    assert data["zendesk"]["fields"] == FIELD_IDS
    assert data["zendesk"]["webhook_id"] == "01HX9ZQ4V7B2M6K8N3P5R7T9W1"
    assert data["zendesk"]["trigger_id"] == 360098765432
    assert data["jira"]["webhook_id"] == "1"  # a string, as the config wants it
    assert data["replies"] == yaml.safe_load(original)["replies"]

    assert set_keys(path, INSTALLED) is False  # "config unchanged"
    assert path.read_text("utf-8") == written


def test_values_already_there_are_left_as_written(tmp_path: Path) -> None:
    text = "zendesk:\n  fields:\n    owning_team: ~\n  trigger_id: 0x10\njira:\n  webhook_id: '7'\n"
    path = tmp_path / "c.yaml"
    path.write_text(text)
    values = {"zendesk.fields.owning_team": None, "zendesk.trigger_id": 16, "jira.webhook_id": "7"}
    assert set_keys(path, values) is False
    assert path.read_text() == text


def test_missing_keys_get_lines_after_the_admins_own() -> None:
    original = (
        "# Our connector config: keep this comment\n"
        "teams:\n"
        "  billing: {jira_project: FIN, name: Finance}   # money\n"
        "zendesk:\n"
        "  include_personal_data: false   # no names in Jira\n"
        "# trailing comment\n"
    )
    written = with_values(original, INSTALLED)
    assert written.startswith(original.removesuffix("# trailing comment\n"))
    # after the last line of content, before a closing comment
    assert written.endswith('jira:\n  webhook_id: "1"\n# trailing comment\n')
    data = yaml.safe_load(written)
    assert data["zendesk"]["fields"] == FIELD_IDS
    assert data["zendesk"]["include_personal_data"] is False
    assert data["jira"] == {"webhook_id": "1"}
    assert data["teams"] == {"billing": {"jira_project": "FIN", "name": "Finance"}}
    for line in original.splitlines(keepends=True):
        assert line in written


def test_flow_mappings_windows_newlines_and_quoted_keys() -> None:
    original = (
        "zendesk:\r\n"
        '  fields: {"owning_team": null, jira_issue: 5}   # ours\r\n'
        "  webhook_id: null    # install\r\n"
        "jira: {solution_field: customfield_10001}\r\n"
    )
    values = {
        "zendesk.fields.owning_team": 11,
        "zendesk.webhook_id": "01ABC",
        "jira.webhook_id": "1",
    }
    written = with_values(original, values)
    assert written == (
        "zendesk:\r\n"
        '  fields: {"owning_team": 11, jira_issue: 5}   # ours\r\n'
        "  webhook_id: 01ABC   # install\r\n"
        'jira: {webhook_id: "1", solution_field: customfield_10001}\r\n'
    )


def test_a_layout_it_cannot_edit_is_left_alone_with_the_values_to_set(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    original = "zendesk:\n  webhook_id:\n    null\n"  # the value on a line of its own
    path.write_text(original)
    with pytest.raises(ConfigError) as caught:
        set_keys(path, {"zendesk.webhook_id": "01ABC"})
    assert "set these by hand: zendesk.webhook_id: 01ABC" in str(caught.value)
    assert path.read_text() == original
