"""Every screen and dialog of the app has an SVG snapshot; the main ones also at 80×24.

The app's screens are found, not listed: every subclass of Textual's ``Screen`` defined
in the ``tui`` package (all its modules are imported). A new screen or dialog without
a snapshot fails :func:`test_every_screen_and_dialog_has_a_snapshot`.

To register yours:

1. Write a snapshot test that opens it the way a user does and asserts it is on top
   before the picture is taken (see tests/tui/test_snapshots_dialogs.py), and
   generate its SVG with ``--snapshot-update`` (look at it before committing).
2. Add the class to :data:`SNAPSHOTS` below, with the id of that test
   (``"<file under tests/tui>::<test name>"``, with ``[<id>]`` for one case of a
   parametrized test). A class that is only a base for
   others and never shown itself goes in :data:`NEVER_SHOWN` instead.

The ids are checked too: each must name a test function that exists and an SVG that
was generated for it.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

from textual.screen import Screen

import tui
from tui.screens.addendum import AddendumScreen
from tui.screens.attach_photo import AttachPhotoScreen
from tui.screens.audit import AuditScreen
from tui.screens.base import AppModal, AppScreen
from tui.screens.clinic_details import ClinicDetailsScreen
from tui.screens.clinic_ingredient_form import ClinicIngredientScreen
from tui.screens.clinic_limit_form import ClinicLimitScreen
from tui.screens.compare_versions import CompareVersionsScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.consent import ConsentScreen, ConsentSignScreen, ConsentWithdrawScreen
from tui.screens.consent_templates import ConsentTemplateFormScreen, ConsentTemplatesScreen
from tui.screens.correct_lot import CorrectLotScreen
from tui.screens.course_form import CourseFormScreen
from tui.screens.export import ExportScreen
from tui.screens.first_run import FirstRunScreen
from tui.screens.form_guard import DiscardChangesScreen
from tui.screens.formulation_editor import FormulationEditorScreen
from tui.screens.help import HelpScreen
from tui.screens.label_dialog import LabelDialog
from tui.screens.lock import LockScreen
from tui.screens.outcome_form import OutcomeFormScreen
from tui.screens.override_sign import OverrideSignScreen
from tui.screens.patient import PatientScreen
from tui.screens.patient_form import PatientFormScreen
from tui.screens.patients import PatientsScreen
from tui.screens.photo_limit import PhotoLimitScreen
from tui.screens.photos import ComparePhotosScreen, PhotosScreen, _OpensPhotos
from tui.screens.product_form import ProductFormScreen
from tui.screens.recall import RecallScreen
from tui.screens.receive_lot import ReceiveLotScreen
from tui.screens.recovery_code import RecoveryCodeScreen
from tui.screens.retired_patients import RetiredPatientsScreen
from tui.screens.session import SessionScreen
from tui.screens.sign_in import SignInScreen
from tui.screens.sign_session import SignSessionScreen
from tui.screens.stock import StockScreen
from tui.screens.stock_dialog import StockDialog
from tui.screens.store_form import StoreFormModal
from tui.screens.users import ResetPasswordScreen, UserFormScreen, UsersScreen

HERE = Path(__file__).resolve().parent

#: Which snapshot tests show each screen at 120×40 (the main ones also at 80×24).
SNAPSHOTS: dict[type[Screen[Any]], tuple[str, ...]] = {
    PhotosScreen: ("test_photo_snapshots.py::test_photo_list",),
    AttachPhotoScreen: ("test_photo_snapshots.py::test_attach_photo",),
    ComparePhotosScreen: ("test_photo_snapshots.py::test_compare_photos",),
    PhotoLimitScreen: ("test_photo_snapshots.py::test_photo_limit",),
    ClinicDetailsScreen: (
        "test_clinic_details_snapshots.py::test_clinic_details[120x40]",
        "test_clinic_details_snapshots.py::test_clinic_details[80x24]",
        "test_clinic_details_snapshots.py::test_clinic_details_read_only",
    ),
    SignInScreen: ("test_snapshots.py::test_sign_in",),
    FirstRunScreen: ("test_snapshots_dialogs.py::test_first_run",),
    RecoveryCodeScreen: ("test_snapshots_dialogs.py::test_recovery_code",),
    LockScreen: ("test_snapshots.py::test_lock",),
    PatientsScreen: ("test_snapshots.py::test_patients", "test_snapshots.py::test_patients_80x24"),
    PatientScreen: (
        "test_snapshots.py::test_patient_overview",
        "test_snapshots.py::test_patient_overview_80x24",
    ),
    SessionScreen: (
        "test_snapshots.py::test_session_recording",
        "test_snapshots.py::test_session_recording_80x24",
    ),
    StockScreen: (
        "test_snapshots.py::test_stock_lots",
        "test_snapshots.py::test_stock_lots_80x24",
        "test_stock_snapshots.py::test_stock_products_tab[120x40]",
        "test_stock_snapshots.py::test_stock_clinic_limits_tab[120x40]",
    ),
    AuditScreen: (
        "test_snapshots.py::test_audit",
        "test_snapshots.py::test_audit_80x24",
        "audit_export/test_audit_snapshots.py::test_audit_screen_shows_an_update_side_by_side",
        "audit_export/test_audit_snapshots.py::test_audit_screen_filtered_to_one_patient",
    ),
    FormulationEditorScreen: (
        "test_snapshots.py::test_formulation_editor",
        "test_snapshots.py::test_formulation_editor_80x24",
    ),
    ExportScreen: ("test_snapshots_dialogs.py::test_export",),
    HelpScreen: ("test_snapshots_dialogs.py::test_help",),
    PatientFormScreen: (
        "test_snapshots_dialogs.py::test_patient_form",
        "test_snapshots_dialogs.py::test_patient_form_editing",
    ),
    OutcomeFormScreen: ("test_snapshots_dialogs.py::test_outcome_form",),
    CourseFormScreen: ("test_snapshots_dialogs.py::test_course_form",),
    SignSessionScreen: ("test_snapshots_dialogs.py::test_sign_session",),
    AddendumScreen: ("test_snapshots_dialogs.py::test_addendum",),
    CompareVersionsScreen: ("test_snapshots_dialogs.py::test_compare_versions",),
    ReceiveLotScreen: (
        "test_snapshots_dialogs.py::test_receive_lot",
        "test_stock_snapshots.py::test_receive_lot_after_a_scan[120x40]",
    ),
    CorrectLotScreen: ("test_snapshots_dialogs.py::test_correct_lot",),
    ConfirmScreen: ("test_snapshots_dialogs.py::test_confirm",),
    ConsentScreen: ("test_consent_snapshots.py::test_consent_screen",),
    ConsentSignScreen: ("test_consent_snapshots.py::test_consent_sign_dialog",),
    ConsentWithdrawScreen: ("test_consent_snapshots.py::test_consent_withdraw_dialog",),
    ConsentTemplatesScreen: ("test_consent_snapshots.py::test_consent_templates_screen",),
    ConsentTemplateFormScreen: ("test_consent_snapshots.py::test_consent_template_form",),
    RecallScreen: ("test_snapshots_dialogs.py::test_recall",),
    RetiredPatientsScreen: ("test_snapshots_dialogs.py::test_retired_patients",),
    LabelDialog: ("test_label_dialog.py::test_label_dialog_snapshot",),
    OverrideSignScreen: (
        "test_snapshots.py::test_override_sign_dialog[120x40]",
        "test_snapshots.py::test_override_sign_dialog[80x24]",
    ),
    UsersScreen: (
        "test_people_snapshots.py::test_users_screen[120x40]",
        "test_people_snapshots.py::test_users_screen[80x24]",
    ),
    UserFormScreen: (
        "test_people_snapshots.py::test_add_user_form[120x40]",
        "test_people_snapshots.py::test_add_user_form[80x24]",
    ),
    ResetPasswordScreen: (
        "test_people_snapshots.py::test_reset_password_form[120x40]",
        "test_people_snapshots.py::test_reset_password_form[80x24]",
    ),
    DiscardChangesScreen: (
        "test_people_snapshots.py::test_discard_question[120x40]",
        "test_people_snapshots.py::test_discard_question[80x24]",
    ),
    ProductFormScreen: (
        "test_stock_snapshots.py::test_product_form_with_refusals[120x40]",
        "test_stock_snapshots.py::test_product_form_with_refusals[80x24]",
    ),
    ClinicIngredientScreen: (
        "test_stock_snapshots.py::test_clinic_ingredient_form[120x40]",
        "test_stock_snapshots.py::test_clinic_ingredient_form[80x24]",
    ),
    ClinicLimitScreen: (
        "test_stock_snapshots.py::test_clinic_limit_form[120x40]",
        "test_stock_snapshots.py::test_clinic_limit_form[80x24]",
    ),
}

#: Bases of the app's screens, never on screen themselves.
NEVER_SHOWN: frozenset[type[Screen[Any]]] = frozenset(
    {AppScreen, AppModal, StoreFormModal, StockDialog, _OpensPhotos}
)

#: The screens of the workday, also shown at the smallest terminal the app supports.
MAIN_AT_80X24 = (
    PatientsScreen, PatientScreen, SessionScreen, StockScreen, AuditScreen,
    FormulationEditorScreen,
)


def app_screens() -> set[type[Screen[Any]]]:
    """Every Screen subclass defined in the ``tui`` package (all its modules imported)."""
    for module in pkgutil.walk_packages(tui.__path__, "tui."):
        if not module.name.endswith(".__main__"):  # that one runs the command line
            importlib.import_module(module.name)
    found: set[type[Screen[Any]]] = set()
    pending: list[type[Screen[Any]]] = [Screen]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            if sub.__module__.split(".")[0] == "tui":
                found.add(sub)
    return found


def _name(cls: type[Any]) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def test_every_screen_and_dialog_has_a_snapshot() -> None:
    missing = sorted(_name(c) for c in app_screens() - SNAPSHOTS.keys() - NEVER_SHOWN)
    assert not missing, (
        f"no snapshot registered for {', '.join(missing)}: write one and add it to SNAPSHOTS "
        "in tests/tui/test_snapshot_coverage.py (its docstring says how)"
    )


#: The SVG's viewBox (width, height) of a picture of each terminal size.
VIEWBOX = {"120x40": ("1482", "1026.0"), "80x24": ("994", "635.5999999999999")}


def _sizes(cls: type[Screen[Any]]) -> set[str]:
    """The terminal sizes ``cls``'s registered pictures were taken at (from the SVGs)."""
    found = set()
    for test_id in SNAPSHOTS[cls]:
        file, _, test = test_id.partition("::")
        svg = HERE / Path(file).parent / "__snapshots__" / Path(file).stem / f"{test}.svg"
        box = re.search(r'viewBox="0 0 ([0-9.]+) ([0-9.]+)"', svg.read_text(encoding="utf-8"))
        assert box is not None, test_id
        found |= {size for size, wh in VIEWBOX.items() if wh == box.groups()}
    return found


def test_every_screen_and_dialog_is_shown_at_120x40() -> None:
    for cls in SNAPSHOTS:
        assert "120x40" in _sizes(cls), f"{_name(cls)} has no picture at 120x40"


def test_the_main_screens_are_also_shown_at_80x24() -> None:
    for cls in MAIN_AT_80X24:
        assert "80x24" in _sizes(cls), f"{_name(cls)} has no picture at 80x24"


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = (n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))
    return {node.name for node in functions if node.name.startswith("test_")}


def test_each_registered_snapshot_exists() -> None:
    for cls, ids in SNAPSHOTS.items():
        assert ids, _name(cls)
        for test_id in ids:
            file, _, test = test_id.partition("::")
            path = HERE / file
            assert path.is_file(), f"{test_id}: no {path}"
            function = test.partition("[")[0]
            assert function in _test_functions(path), f"{test_id}: no such test in {file}"
            svg = path.parent / "__snapshots__" / path.stem / f"{test}.svg"
            assert svg.is_file(), f"{test_id}: no snapshot {svg} (run it with --snapshot-update)"


def test_the_registry_names_only_screens_of_the_app() -> None:
    screens = app_screens()
    stale = [_name(c) for c in SNAPSHOTS if c not in screens]
    assert not stale, f"not a screen of the app (any more): {stale}"
    assert not (SNAPSHOTS.keys() & NEVER_SHOWN)
