"""The entry point builds only the sub-command a command line names (tui.cli.root.command_for)."""

from __future__ import annotations

import pytest

from tui.cli.root import app, command_for


def _names(argv: list[str]) -> set[str]:
    return set(command_for(argv).commands)


def test_a_command_line_builds_only_its_sub_command() -> None:
    assert _names(["init", "--demo"]) == {"init"}
    assert _names(["patient", "list"]) == {"patient"}
    assert _names(["lots", "list"]) == {"lots"}  # the hidden older spelling too


def test_the_root_options_are_read_by_the_roots_own_parser() -> None:
    # A --db value that happens to be a command's name is the value, not the command.
    assert _names(["--db", "init", "patient", "list"]) == {"patient"}
    assert _names(["--db=session", "lot", "list"]) == {"lot"}
    assert _names(["--", "calc", "convert"]) == {"calc"}


@pytest.mark.parametrize(
    "argv",
    [[], ["--help"], ["--version"], ["pateint", "list"], ["--bogus"], ["--db"]],
)
def test_without_a_known_sub_command_the_whole_tree_is_built(argv: list[str]) -> None:
    every = {g.name for g in app.registered_groups} | {c.name for c in app.registered_commands}
    assert _names(argv) == every
    assert {"init", "patient", "session", "lot", "calc"} <= every


def test_the_sub_command_parses_as_in_the_whole_tree() -> None:
    whole = command_for(["--help"]).commands["init"]
    alone = command_for(["init"]).commands["init"]
    assert [p.name for p in alone.params] == [p.name for p in whole.params]
    assert alone.help == whole.help
