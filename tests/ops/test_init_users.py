"""``formulary init`` and ``formulary user``: the first admin, accounts, lockout."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import Result

from db.auth import MAX_FAILED_LOGINS
from db.store import Store
from tests.ops.conftest import ADMIN_PASSWORD

Cli = Callable[..., Result]


def _init(cli: Cli, location: str, admin: str = "chief") -> Any:
    return cli(["init", "--db", location, "--admin", admin, "--full-name", "Dr. A. Chief",
                "--password-stdin"], input=ADMIN_PASSWORD + "\n")


def _one_line_error(result: Result) -> str:
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("formulary: ")
    return lines[0]


@pytest.mark.storage
def test_init_creates_the_database_and_its_first_administrator(
    cli: Cli, new_location: Callable[[], str], open_db: Callable[..., Any]
) -> None:
    location = new_location()
    result = _init(cli, location)
    assert result.exit_code == 0, result.output
    assert "First administrator: chief (Dr. A. Chief)" in result.stdout
    assert "FORMULARY-CHECKPOINT v1" in result.stdout
    store = Store(open_db(location))
    actor = store.authenticate("chief", ADMIN_PASSWORD)
    assert actor.role.value == "admin"
    assert actor.full_name == "Dr. A. Chief"


@pytest.mark.storage
def test_a_second_init_is_refused_and_changes_nothing(
    cli: Cli, new_location: Callable[[], str], open_db: Callable[..., Any]
) -> None:
    location = new_location()
    assert _init(cli, location).exit_code == 0
    again = _init(cli, location, admin="intruder")
    message = _one_line_error(again)
    assert "already set up with accounts" in message and "and sign in" in message
    if "://" in location:  # a server URL may carry a password: never echoed
        assert location not in message and "<the same URL>" in message
    else:
        assert f"formulary --db {location}" in message
    store = Store(open_db(location))
    actor = store.authenticate("chief", ADMIN_PASSWORD)
    assert [u.username for u in store.list_users(actor)] == ["chief"]


def test_init_without_an_administrator_name_says_how(cli: Cli, tmp_path: Any) -> None:
    result = cli(["init", "--db", str(tmp_path / "x.db")])
    assert "formulary init --admin NAME" in _one_line_error(result)
    assert not (tmp_path / "x.db").exists()


def test_a_short_password_is_refused_with_one_line(cli: Cli, tmp_path: Any) -> None:
    result = cli(["init", "--db", str(tmp_path / "x.db"), "--admin", "chief",
                  "--password-stdin"], input="short\n")
    assert "shorter than 8 characters" in _one_line_error(result)


def test_no_password_source_in_a_script_is_one_clear_error(cli: Cli, tmp_path: Any) -> None:
    location = str(tmp_path / "x.db")
    assert _init(cli, location).exit_code == 0
    result = cli(["user", "list", "--db", location, "--user", "chief"])
    assert "--password-stdin" in _one_line_error(result)


def test_the_password_may_come_from_the_environment(
    cli: Cli, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = str(tmp_path / "x.db")
    assert _init(cli, location).exit_code == 0
    monkeypatch.setenv("FORMULARY_PASSWORD", ADMIN_PASSWORD)
    result = cli(["user", "list", "--db", location, "--user", "chief", "--json"])
    assert result.exit_code == 0, result.output
    assert [u["username"] for u in json.loads(result.stdout)] == ["chief"]


def test_the_signed_in_password_never_becomes_another_accounts(
    cli: Cli, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FORMULARY_PASSWORD is the administrator's own: a new account or a reset must get
    # a password of its own, never that one (their signatures would be indistinguishable).
    location = str(tmp_path / "x.db")
    assert _init(cli, location).exit_code == 0
    monkeypatch.setenv("FORMULARY_PASSWORD", ADMIN_PASSWORD)
    add = ["user", "add", "nurse2", "--role", "assistant", "--full-name", "N Two",
           "--db", location, "--user", "chief"]
    line = _one_line_error(cli(add, input=""))
    assert "no new password for nurse2" in line and "FORMULARY_PASSWORD" in line
    listed = cli(["user", "list", "--db", location, "--user", "chief", "--json"])
    assert [u["username"] for u in json.loads(listed.stdout)] == ["chief"]

    assert cli(add, input="nurse-two-password\n").exit_code == 0
    monkeypatch.setenv("FORMULARY_USER", "nurse2")
    assert cli(["patient", "list", "--db", location]).exit_code != 0  # not the admin's
    monkeypatch.setenv("FORMULARY_PASSWORD", "nurse-two-password")
    assert cli(["patient", "list", "--db", location]).exit_code == 0

    monkeypatch.setenv("FORMULARY_PASSWORD", ADMIN_PASSWORD)
    reset = ["user", "reset-password", "nurse2", "--reason", "forgot", "--db", location,
             "--user", "chief"]
    assert "no new password" in _one_line_error(cli(reset, input=""))
    assert cli(reset, input="nurse-two-again\n").exit_code == 0
    monkeypatch.setenv("FORMULARY_PASSWORD", "nurse-two-again")
    assert cli(["patient", "list", "--db", location, "--user", "nurse2"]).exit_code == 0


@pytest.mark.storage
def test_wrong_passwords_lock_the_account_until_an_admin_unlocks_it(
    cli: Cli, new_location: Callable[[], str]
) -> None:
    location = new_location()
    assert _init(cli, location).exit_code == 0
    added = cli(["user", "add", "bob", "--role", "practitioner", "--full-name", "Dr. Bob",
                 "--db", location, "--user", "chief", "--password-stdin"],
                input=f"{ADMIN_PASSWORD}\nbob-password-1\n")
    assert added.exit_code == 0, added.output

    def bob(password: str) -> Any:
        return cli(["lots", "recall", "NO-SUCH-LOT", "--db", location, "--user", "bob",
                    "--password-stdin"], input=password + "\n")

    for attempt in range(1, MAX_FAILED_LOGINS + 1):
        message = _one_line_error(bob("not-bobs-password"))
        if attempt < MAX_FAILED_LOGINS:
            assert "wrong password" in message
        else:
            assert "now locked" in message
    assert "is locked" in _one_line_error(bob("bob-password-1"))

    unlocked = cli(["user", "unlock", "bob", "--reason", "forgot his password, verified ID",
                    "--db", location, "--user", "chief", "--password-stdin"],
                   input=ADMIN_PASSWORD + "\n")
    assert unlocked.exit_code == 0, unlocked.output
    assert "Unlocked bob" in unlocked.stdout
    # Signed in again: the command now gets as far as the lot lookup.
    assert "no lot numbered 'NO-SUCH-LOT'" in _one_line_error(bob("bob-password-1"))


def test_unlock_needs_a_reason(cli: Cli, tmp_path: Any) -> None:
    location = str(tmp_path / "x.db")
    assert _init(cli, location).exit_code == 0
    cli(["user", "add", "bob", "--db", location, "--user", "chief", "--password-stdin"],
        input=f"{ADMIN_PASSWORD}\nbob-password-1\n")
    result = cli(["user", "unlock", "bob", "--db", location, "--user", "chief",
                  "--password-stdin"], input=ADMIN_PASSWORD + "\n")
    assert "give a reason with --reason" in _one_line_error(result)


@pytest.mark.storage
@pytest.mark.parametrize("command", ["deactivate", "reactivate", "unlock", "reset-password"])
def test_every_reasoned_user_command_names_the_reason_flag(
    cli: Cli, tmp_path: Any, command: str
) -> None:
    """The flag is named before any password is asked for, and nothing is audited."""
    location = str(tmp_path / "x.db")
    assert _init(cli, location).exit_code == 0
    result = cli(["user", command, "bob", "--db", location, "--user", "chief",
                  "--password-stdin"], input=ADMIN_PASSWORD + "\n")
    line = _one_line_error(result)
    assert "--reason" in line and result.exit_code == 2


def test_a_deactivated_user_cannot_sign_in_and_non_admins_cannot_add_users(
    cli: Cli, tmp_path: Any
) -> None:
    location = str(tmp_path / "x.db")
    assert _init(cli, location).exit_code == 0
    for name in ("bob", "carol"):
        cli(["user", "add", name, "--db", location, "--user", "chief", "--password-stdin"],
            input=f"{ADMIN_PASSWORD}\n{name}-password-1\n")
    refused = cli(["user", "add", "mallory", "--db", location, "--user", "bob",
                   "--password-stdin"], input="bob-password-1\nmallory-pass-1\n")
    assert "cannot add users" in _one_line_error(refused)
    off = cli(["user", "deactivate", "carol", "--reason", "left the clinic", "--db", location,
               "--user", "chief", "--password-stdin"], input=ADMIN_PASSWORD + "\n")
    assert off.exit_code == 0 and "deactivated" in off.stdout
    result = cli(["user", "list", "--db", location, "--user", "carol", "--password-stdin"],
                 input="carol-password-1\n")
    assert "deactivated" in _one_line_error(result)


def test_unknown_user_in_a_command_is_named(cli: Cli, tmp_path: Any) -> None:
    location = str(tmp_path / "x.db")
    assert _init(cli, location).exit_code == 0
    result = cli(["user", "unlock", "nobody", "--reason", "x", "--db", location,
                  "--user", "chief", "--password-stdin"], input=ADMIN_PASSWORD + "\n")
    assert "there is no user 'nobody'" in _one_line_error(result)


@pytest.mark.storage
def test_the_only_admin_locked_out_comes_back_with_the_recovery_code(
    cli: Cli, new_location: Callable[[], str]
) -> None:
    import re

    location = new_location()
    made = _init(cli, location)
    assert made.exit_code == 0, made.output
    code = re.search(r"Recovery code .*: ([A-Z2-7]{5}(?:-[A-Z2-7]{5}){4})", made.stdout)
    assert code is not None, made.stdout

    def chief(password: str) -> Any:
        return cli(["user", "list", "--db", location, "--user", "chief", "--password-stdin"],
                   input=password + "\n")

    for _ in range(MAX_FAILED_LOGINS):
        chief("not-the-password")
    assert "is locked" in _one_line_error(chief(ADMIN_PASSWORD))
    wrong = cli(["user", "recover", "chief", "--code-stdin", "--db", location],
                input="AAAAA-AAAAA-AAAAA-AAAAA-AAAAA\n")
    assert "recovery code is wrong" in _one_line_error(wrong)
    back = cli(["user", "recover", "chief", "--code-stdin", "--new-password", "--db", location],
               input=f"{code.group(1)}\nchief-new-password\n")
    assert back.exit_code == 0, back.output
    assert "Recovered chief" in back.stdout and "New recovery code" in back.stdout
    assert chief("chief-new-password").exit_code == 0
    again = cli(["user", "recover", "chief", "--code-stdin", "--db", location],
                input=code.group(1) + "\n")
    assert "recovery code is wrong" in _one_line_error(again)


@pytest.mark.parametrize(
    ("command", "needs"),
    [("unlock", "cannot unlock accounts"), ("deactivate", "cannot deactivate accounts"),
     ("reset-password", "cannot reset passwords")],
)  # fmt: skip
def test_a_practitioner_is_told_that_changing_an_account_needs_an_administrator(
    cli: Cli, tmp_path: Any, command: str, needs: str
) -> None:
    location = str(tmp_path / "x.db")
    assert _init(cli, location).exit_code == 0
    cli(["user", "add", "bob", "--db", location, "--user", "chief", "--password-stdin"],
        input=f"{ADMIN_PASSWORD}\nbob-password-1\n")
    result = cli(["user", command, "chief", "--reason", "locked out", "--db", location,
                  "--user", "bob", "--password-stdin"], input="bob-password-1\nnew-password-1\n")
    line = _one_line_error(result)
    assert needs in line and "ask an administrator" in line
    assert "list users" not in line
