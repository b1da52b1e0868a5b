"""Users (administrators only): add, deactivate, reactivate, unlock, reset a password.

The same Store calls as ``formulary user``; every change is one audited transaction
and, except adding, asks for the reason the audit trail keeps. Accounts are never
deleted: a deactivated account's signatures stay valid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, DataTable, Header, Input, Select, Static

from db.auth import MIN_PASSWORD_LENGTH
from formulary.records import Role
from tui.messages import Loaded, WorkerFailed
from tui.screens.base import AppScreen
from tui.screens.store_form import StoreFormModal
from tui.widgets.field_row import FieldRow
from tui.widgets.key_footer import KeyFooter
from tui.widgets.table_fill import fill_table
from tui.widgets.text_input import TextInput

if TYPE_CHECKING:
    from db.store import UserInfo

#: Shortest password the Store accepts (db.auth.MIN_PASSWORD_LENGTH), checked here
#: too so the message appears beside the field before anything is sent.
MIN_PASSWORD = MIN_PASSWORD_LENGTH

#: The users table's columns.
USER_COLUMNS = ("Username", "Full name", "Role", "State")

_ROLE_HELP = {
    Role.ADMIN: "administrator: everything, including users",
    Role.PRACTITIONER: "practitioner: prescribes and signs",
    Role.ASSISTANT: "assistant: prepares, never signs",
    Role.AUDITOR: "auditor: reads and audits only",
}


def is_admin(user: Any) -> bool:
    """True for a signed-in administrator (the only role that manages users)."""
    return user is not None and getattr(user, "role", None) == Role.ADMIN


def state_text(info: Any) -> str:
    """``active``, ``deactivated``, with ``, locked`` when failed logins locked it."""
    state = "active" if info.active else "deactivated"
    return state + (", locked" if info.locked else "")


def _passwords(first: str, second: str, errors: dict[str, str], row: str, again: str) -> None:
    if len(first) < MIN_PASSWORD:
        errors[row] = f"At least {MIN_PASSWORD} characters."
    elif first != second:
        errors[again] = "The two passwords differ; type it again."


class UserFormScreen(StoreFormModal):
    """Add an account; dismissed with True once the Store created it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="user_form.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="user_form.cancel"),
    ]
    SAVE_BUTTON = "user-save"
    CANCEL_BUTTON = "user-cancel"
    ERROR_LINE = "user-error"
    FORM_NAME = "the new user form"

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Add a user", classes="form-title")
            yield Static(
                "The new user signs in with this password; tell it to them in person.",
                classes="form-hint",
            )
            yield Static("", id="user-error", classes="form-error")
            yield FieldRow(
                "Username",
                TextInput(id="u-username", placeholder="e.g. dr.martin"),
                id="row-u-username",
            )
            yield FieldRow(
                "Full name",
                TextInput(
                    id="u-full-name", placeholder="printed on signatures, e.g. Dr Claire Martin"
                ),
                id="row-u-full-name",
            )
            yield FieldRow(
                "Role",
                Select([(_ROLE_HELP[r], r) for r in Role], id="u-role", prompt="Choose a role"),
                id="row-u-role",
            )
            yield FieldRow(
                "Password",
                TextInput(
                    id="u-password", password=True, placeholder=f"{MIN_PASSWORD}+ characters"
                ),
                id="row-u-password",
            )
            yield FieldRow(
                "Password again", TextInput(id="u-password2", password=True), id="row-u-password2"
            )
            with Horizontal(id="user-buttons", classes="dialog-buttons"):
                yield Button("Add user (ctrl+s)", id="user-save", variant="primary")
                yield Button("Cancel (esc)", id="user-cancel")

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The account to create and what is wrong, by field."""

        def text(field_id: str) -> str:
            return self.query_one(f"#{field_id}", Input).value

        errors: dict[str, str] = {}
        username = text("u-username").strip()
        full_name = text("u-full-name").strip()
        role = self.query_one("#u-role", Select).value
        if not username:
            errors["row-u-username"] = "Required: the name they sign in with."
        elif any(c.isspace() for c in username):
            errors["row-u-username"] = "No spaces; e.g. dr.martin."
        if not full_name:
            errors["row-u-full-name"] = "Required: printed on their signatures."
        if not isinstance(role, Role):
            errors["row-u-role"] = "Choose what this user may do."
        _passwords(
            text("u-password"), text("u-password2"), errors, "row-u-password", "row-u-password2"
        )
        values = {
            "username": username,
            "full_name": full_name,
            "role": role,
            "password": text("u-password"),
        }
        return values, errors

    def store_call(self, values: dict[str, Any]) -> None:
        """Create the account through the Store (in the worker thread)."""
        self.store.create_user(
            self.user, values["username"], values["full_name"], values["role"], values["password"]
        )


class ResetPasswordScreen(StoreFormModal):
    """Set a new password for another account (also unlocks it)."""

    DEFAULT_CSS = """
    ResetPasswordScreen > VerticalScroll { border: thick $warning; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="reset_password.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="reset_password.cancel"),
    ]
    SAVE_BUTTON = "reset-save"
    CANCEL_BUTTON = "reset-cancel"
    ERROR_LINE = "reset-error"
    FORM_NAME = "the new password form"

    def __init__(self, user_id: int, username: str) -> None:
        super().__init__()
        self.user_id = user_id
        self.username = username

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(f"New password for {self.username}", classes="form-title")
            yield Static(
                "Also unlocks the account. Tell the new password to its owner in person.",
                classes="form-hint",
            )
            yield Static("", id="reset-error", classes="form-error")
            yield FieldRow(
                "New password",
                TextInput(
                    id="r-password", password=True, placeholder=f"{MIN_PASSWORD}+ characters"
                ),
                id="row-r-password",
            )
            yield FieldRow(
                "Password again", TextInput(id="r-password2", password=True), id="row-r-password2"
            )
            yield FieldRow(
                "Reason",
                TextInput(id="r-reason", placeholder="kept in the audit trail, e.g. forgotten"),
                id="row-r-reason",
            )
            with Horizontal(id="reset-buttons", classes="dialog-buttons"):
                yield Button("Set password (ctrl+s)", id="reset-save", variant="warning")
                yield Button("Cancel (esc)", id="reset-cancel")

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The new password and reason, and what is wrong, by field."""
        password = self.query_one("#r-password", Input).value
        again = self.query_one("#r-password2", Input).value
        reason = self.query_one("#r-reason", Input).value.strip()
        errors: dict[str, str] = {}
        _passwords(password, again, errors, "row-r-password", "row-r-password2")
        if not reason:
            errors["row-r-reason"] = "Give a reason: the audit trail records why."
        return {"password": password, "reason": reason}, errors

    def store_call(self, values: dict[str, Any]) -> None:
        """Reset through the Store (in the worker thread)."""
        self.store.reset_password(self.user, self.user_id, values["password"], values["reason"])


class UsersScreen(AppScreen):
    """Every account, with what an administrator can do to each."""

    DEFAULT_CSS = """
    UsersScreen #users-hint { height: auto; padding: 0 1; color: $text-muted; }
    UsersScreen #users { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="users.back"),
        Binding("ctrl+n", "add_user", "Add user", id="users.add"),
        Binding("f3", "deactivate_user", "Deactivate", id="users.deactivate"),
        Binding("f4", "reactivate_user", "Reactivate", id="users.reactivate"),
        Binding("f5", "unlock_user", "Unlock", id="users.unlock"),
        Binding("f6", "reset_password", "Password", id="users.reset_password"),
        Binding("f7", "photo_limit", "Photo limit", id="users.photo_limit"),
        Binding("f8", "clinic_details", "Clinic", id="users.clinic_details"),
    ]

    class Changed(Message):
        """A change was saved; ``what`` says which."""

        def __init__(self, what: str) -> None:
            self.what = what
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self.users: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "Accounts are never deleted: deactivate one and its signatures stay valid.",
            id="users-hint",
        )
        table: DataTable[Any] = DataTable(id="users", cursor_type="row", zebra_stripes=True)
        yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Users"
        table = self.query_one("#users", DataTable)
        fill_table(table, USER_COLUMNS, [])
        table.focus()
        self._load()

    @work(thread=True, exclusive=True, group="users-read")
    def _load(self) -> None:
        try:
            users = self.store.list_users(self.user)
        except Exception as exc:
            self.post_message(WorkerFailed.of(exc))
            return
        self.post_if_current(Loaded(users))

    @on(Loaded)
    def _loaded(self, message: Loaded[Sequence[UserInfo]]) -> None:
        table = self.query_one("#users", DataTable)
        row = table.cursor_row
        self.users = list(message.data)
        rows = []
        for info in self.users:
            state = Text(state_text(info))
            if info.locked or not info.active:
                state.stylize("bold")
            rows.append(((info.username, info.full_name, info.role.value, state), str(info.id)))
        fill_table(table, USER_COLUMNS, rows)
        if self.users:
            table.move_cursor(row=min(max(row, 0), len(self.users) - 1))

    @on(WorkerFailed)
    def _failed(self, message: WorkerFailed) -> None:
        self.notify(message.reason, title="Not done", severity="error")

    @on(Changed)
    def _changed(self, message: Changed) -> None:
        self.notify(message.what, title="Users")
        self._load()

    def selected(self) -> Any | None:
        """The account under the cursor."""
        table = self.query_one("#users", DataTable)
        if not self.users or table.cursor_row < 0 or table.cursor_row >= len(self.users):
            return None
        return self.users[table.cursor_row]

    def action_back(self) -> None:
        """Back to where you came from."""
        self.app.pop_screen()

    def action_add_user(self) -> None:
        """Add an account."""

        def done(saved: bool | None) -> None:
            if saved:
                self.post_message(self.Changed("User added."))

        self.app.push_screen(UserFormScreen(), done)

    def action_photo_limit(self) -> None:
        """The clinic's photo size limit (read, then the dialog)."""
        from tui.screens.base import read_then_push
        from tui.screens.photo_limit import PhotoLimitScreen

        read_then_push(
            self.formulary_app,
            self.store.photo_limit,
            lambda limit: PhotoLimitScreen(limit),
            failure="Photo limit",
            group="photo-limit",
        )

    def action_clinic_details(self) -> None:
        """The clinic's details (name, address, identifier, beyond-use time, photo limit)."""
        self.formulary_app.open_clinic_details()

    def action_reset_password(self) -> None:
        """Set a new password for the selected account."""
        info = self.selected()
        if info is None:
            return

        def done(saved: bool | None) -> None:
            if saved:
                self.post_message(self.Changed(f"New password set for {info.username}."))

        self.app.push_screen(ResetPasswordScreen(info.id, info.username), done)

    def action_deactivate_user(self) -> None:
        """Deactivate the selected account (asks for the reason)."""
        self._reasoned(
            "deactivate_user", "Deactivate", "deactivated",
            lambda i: i.active, "is already deactivated",
        )

    def action_reactivate_user(self) -> None:
        """Reactivate the selected account (asks for the reason)."""
        self._reasoned(
            "reactivate_user", "Reactivate", "reactivated",
            lambda i: not i.active, "is active already",
        )

    def action_unlock_user(self) -> None:
        """Unlock the selected account after failed logins (asks for the reason)."""
        self._reasoned(
            "unlock_user", "Unlock", "unlocked", lambda i: i.locked, "is not locked",
        )

    def _reasoned(
        self,
        method: str,
        verb: str,
        done_word: str,
        applies: Callable[[Any], bool],
        not_applicable: str,
    ) -> None:
        from tui.screens.confirm import ConfirmScreen

        info = self.selected()
        if info is None:
            return
        if not applies(info):
            self.notify(f"{info.username} {not_applicable}.", title="Users")
            return

        def confirmed(reason: str | None) -> None:
            if reason:
                self._change(method, info.id, reason, f"{info.username} {done_word}.")

        self.app.push_screen(
            ConfirmScreen(
                f"{verb} {info.username}?",
                f"{info.full_name} ({info.role.value}). The audit trail records who, when "
                "and why.",
                action=verb,
            ),
            confirmed,
        )

    @work(thread=True, exclusive=True, group="users-change")
    def _change(self, method: str, user_id: int, reason: str, what: str) -> None:
        try:
            getattr(self.store, method)(self.user, user_id, reason)
        except Exception as exc:
            self.post_message(WorkerFailed.of(exc))
            return
        self.post_message(self.Changed(what))
