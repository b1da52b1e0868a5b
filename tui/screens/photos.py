"""A patient's photographs: the list (attach, retire, open) and the side-by-side compare."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Header, Select, Static

from formulary.photos import VIEWS, Photo, PhotoView
from formulary.records import PatientChart
from tui.messages import Loaded, WorkerFailed
from tui.screens.base import AppScreen
from tui.styles import STYLES
from tui.widgets.key_footer import KeyFooter
from tui.widgets.photo_panel import PhotoPanel


def _attached_to(photo: Photo) -> str:
    if photo.session_id is not None:
        return f"session {photo.session_id}"
    return f"outcome {photo.outcome_id}"


class OpenedInViewer(Message):
    """A copy of a photo was handed to the viewer (``problem``: why it was not)."""

    def __init__(self, photo_id: int, path: str, problem: str | None) -> None:
        self.photo_id = photo_id
        self.path = path
        self.problem = problem
        super().__init__()


class _OpensPhotos(AppScreen):
    """Open a photo in the system viewer: a checked, private, audited copy."""

    @work(thread=True, group="photo-open")
    def open_photo(self, photo: Photo) -> None:
        """Copy ``photo`` out (checked against its SHA-256), audit it, start the viewer."""
        from formulary.photos import export_file_name
        from tui import photo_display

        try:
            _, data = self.store.photo_bytes(self.user, photo.id)
            path = photo_display.private_copy(export_file_name(self.chart_number, photo), data)
            self.store.record_photo_export(self.user, [photo.id], str(path))
        except Exception as exc:
            self.post_message(WorkerFailed.of(exc))
            return
        self.post_message(OpenedInViewer(photo.id, str(path),
                                         photo_display.open_in_viewer(path)))

    @property
    def chart_number(self) -> str:
        """The chart number, for the exported copy's name."""
        raise NotImplementedError

    @on(OpenedInViewer)
    def _opened(self, message: OpenedInViewer) -> None:
        if message.problem:
            self.notify(message.problem, title="Photo copy saved", severity="warning",
                        timeout=15)
        else:
            self.notify(f"Photo {message.photo_id} opened in the image viewer "
                        f"(copy at {message.path}).", title="Photos")

    @on(WorkerFailed)
    def _failed(self, message: WorkerFailed) -> None:
        self.notify(message.reason, title="Photos", severity="error")


class PhotosScreen(_OpensPhotos):
    """The patient's photographs by date taken; retired ones stay listed, marked."""

    CSS_PATH = STYLES / "photos.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="photos.back"),
        Binding("ctrl+n", "attach_photo", "Attach", id="photos.attach"),
        Binding("f5", "compare_photos", "Compare", id="photos.compare"),
        Binding("f6", "open_photo_viewer", "Open in viewer", id="photos.open"),
        Binding("f8", "retire_photo", "Retire", id="photos.retire"),
    ]

    def __init__(self, chart: PatientChart) -> None:
        super().__init__()
        self.chart = chart
        self.photos: list[Photo] = list(chart.photos)

    @property
    def chart_number(self) -> str:
        """The chart number, for the exported copy's name."""
        return self.chart.patient.chart_number

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "Photos are never deleted: one attached in error is retired with a reason and "
            "stays on record. Each file is checked against its SHA-256 when opened.",
            id="photos-hint",
        )
        table: DataTable[Any] = DataTable(id="photos", cursor_type="row", zebra_stripes=True)
        yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        p = self.chart.patient
        self.title = "Photos"
        self.sub_title = f"{p.display_name} · {p.chart_number}"
        table = self.query_one("#photos", DataTable)
        table.add_columns("Taken", "View", "Documents", "Size", "SHA-256", "State")
        self._fill()
        table.focus()

    def _fill(self) -> None:
        table = self.query_one("#photos", DataTable)
        row = table.cursor_row
        table.clear()
        if not self.photos:
            table.add_row("", "No photos yet: ctrl+n attaches one.", "", "", "", "")
            return
        for photo in self.photos:
            state = Text(f"retired: {photo.retired_reason}", style="bold") if photo.retired \
                else Text("current")
            table.add_row(
                photo.taken_on.isoformat(), photo.view.label, _attached_to(photo),
                f"{photo.width}×{photo.height}", f"{photo.sha256[:12]}…", state,
                key=str(photo.id),
            )
        table.move_cursor(row=min(max(row, 0), len(self.photos) - 1))

    @work(thread=True, exclusive=True, group="photos-read")
    def reload(self) -> None:
        """Read the patient's photos again (after an attach or a retirement)."""
        try:
            photos = self.store.list_photos(self.user, self.chart.patient.id)
        except Exception as exc:
            self.post_message(WorkerFailed.of(exc))
            return
        self.post_if_current(Loaded(photos))

    @on(Loaded)
    def _loaded(self, message: Loaded[list[Photo]]) -> None:
        self.photos = list(message.data)
        self._fill()

    def selected(self) -> Photo | None:
        """The photo under the cursor."""
        table = self.query_one("#photos", DataTable)
        if not self.photos or not 0 <= table.cursor_row < len(self.photos):
            return None
        return self.photos[table.cursor_row]

    def action_back(self) -> None:
        """Back to the chart."""
        self.app.pop_screen()

    def action_attach_photo(self) -> None:
        """Attach a photo to one of the patient's sessions or outcomes."""
        from tui.screens.attach_photo import AttachPhotoScreen

        def done(saved: bool | None) -> None:
            if saved:
                self.notify("Photo attached; its SHA-256 is in the audit trail.",
                            title="Photos")
                self.reload()

        self.app.push_screen(AttachPhotoScreen(self.chart), done)

    def action_compare_photos(self) -> None:
        """Two dates of the same view side by side (the highlighted photo's view)."""
        current = [p for p in self.photos if not p.retired]
        if not current:
            self.notify("No photos to compare yet.", title="Photos")
            return
        chosen = self.selected()
        view = chosen.view if chosen is not None and not chosen.retired else current[0].view
        self.app.push_screen(ComparePhotosScreen(self.chart, current, view))

    def action_open_photo_viewer(self) -> None:
        """Open the highlighted photo in the system image viewer."""
        photo = self.selected()
        if photo is not None:
            self.open_photo(photo)

    def action_retire_photo(self) -> None:
        """Retire the highlighted photo (attached in error), with the reason."""
        from tui.screens.confirm import ConfirmScreen

        photo = self.selected()
        if photo is None:
            return
        if photo.retired:
            self.notify(f"Photo {photo.id} is already retired.", title="Photos")
            return

        def confirmed(reason: str | None) -> None:
            if reason:
                self._retire(photo.id, reason)

        self.app.push_screen(
            ConfirmScreen(
                f"Retire photo {photo.id}?",
                f"{photo.view.label}, {photo.taken_on.isoformat()}. It stays on record with "
                "its file; the audit trail keeps who, when and why.",
                action="Retire",
            ),
            confirmed,
        )

    @work(thread=True, exclusive=True, group="photos-retire")
    def _retire(self, photo_id: int, reason: str) -> None:
        try:
            self.store.retire_photo(self.user, photo_id, reason)
        except Exception as exc:
            self.post_message(WorkerFailed.of(exc))
            return
        self.app.call_from_thread(self.notify, f"Photo {photo_id} retired.", title="Photos")
        self.reload()


class ComparePhotosScreen(_OpensPhotos):
    """One view on two dates, side by side: earliest and latest at first."""

    CSS_PATH = STYLES / "photos.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="compare_photos.back"),
        Binding("f5", "open_left", "Open left in viewer", id="compare_photos.open_left"),
        Binding("f6", "open_right", "Open right in viewer", id="compare_photos.open_right"),
    ]

    class Shown(Message):
        """Both panels show the chosen photos (tests wait for it)."""

    def __init__(self, chart: PatientChart, photos: list[Photo], view: PhotoView) -> None:
        super().__init__()
        self.chart = chart
        self.photos = sorted((p for p in photos if not p.retired),
                             key=lambda p: (p.taken_on, p.id))
        self.view = view

    @property
    def chart_number(self) -> str:
        """The chart number, for the exported copies' names."""
        return self.chart.patient.chart_number

    def _of_view(self) -> list[Photo]:
        return [p for p in self.photos if p.view is self.view]

    def _date_options(self) -> list[tuple[str, int]]:
        return [(f"{p.taken_on.isoformat()} (photo {p.id})", p.id) for p in self._of_view()]

    def compose(self) -> ComposeResult:
        yield Header()
        views = [v for v in VIEWS if any(p.view is v for p in self.photos)]
        options = self._date_options()
        with Horizontal(id="compare-pickers"):
            yield Select([(v.label, v) for v in views], value=self.view, allow_blank=False,
                         id="compare-view")
            yield Select(options, value=options[0][1], allow_blank=False, id="compare-left")
            yield Select(options, value=options[-1][1], allow_blank=False, id="compare-right")
        with Horizontal(id="compare-panels"):
            yield PhotoPanel("Before", "F5", id="panel-left")
            yield PhotoPanel("After", "F6", id="panel-right")
        yield KeyFooter()

    def on_mount(self) -> None:
        p = self.chart.patient
        self.title = "Compare photos"
        self.sub_title = f"{p.display_name} · {p.chart_number}"
        self.query_one("#compare-view", Select).focus()
        self._refresh()

    def _by_id(self, ident: object) -> Photo | None:
        return next((p for p in self.photos if p.id == ident), None)

    @on(Select.Changed, "#compare-view")
    def _view_changed(self, event: Select.Changed) -> None:
        if not isinstance(event.value, PhotoView) or event.value is self.view:
            return
        self.view = event.value
        options = self._date_options()
        for select_id, value in (("#compare-left", options[0][1]),
                                 ("#compare-right", options[-1][1])):
            select: Select[int] = self.query_one(select_id, Select)
            with select.prevent(Select.Changed):
                select.set_options(options)
                select.value = value
        self._refresh()

    @on(Select.Changed, "#compare-left")
    @on(Select.Changed, "#compare-right")
    def _date_changed(self) -> None:
        self._refresh()

    def chosen(self) -> tuple[Photo | None, Photo | None]:
        """The photos picked for the left and the right panel."""
        left = self.query_one("#compare-left", Select).value
        right = self.query_one("#compare-right", Select).value
        return self._by_id(left), self._by_id(right)

    def _refresh(self) -> None:
        from tui.photo_display import graphics

        left, right = self.chosen()
        if graphics() is None:
            self._show(left, right, None, None)
        else:
            self._read_pictures(left, right)

    @work(thread=True, exclusive=True, group="compare-read")
    def _read_pictures(self, left: Photo | None, right: Photo | None) -> None:
        try:
            data = [self.store.photo_bytes(self.user, p.id)[1] if p is not None else None
                    for p in (left, right)]
        except Exception as exc:
            self.post_message(WorkerFailed.of(exc))
            data = [None, None]
        self.app.call_from_thread(self._show, left, right, data[0], data[1])

    @work(exclusive=True, group="compare-show")
    async def _show(self, left: Photo | None, right: Photo | None,
                    left_data: bytes | None, right_data: bytes | None) -> None:
        await self.query_one("#panel-left", PhotoPanel).show(left, left_data)
        await self.query_one("#panel-right", PhotoPanel).show(right, right_data)
        self.post_message(self.Shown())

    def action_back(self) -> None:
        """Back to the photo list."""
        self.app.pop_screen()

    def action_open_left(self) -> None:
        """Open the left photo in the system image viewer."""
        left, _ = self.chosen()
        if left is not None:
            self.open_photo(left)

    def action_open_right(self) -> None:
        """Open the right photo in the system image viewer."""
        _, right = self.chosen()
        if right is not None:
            self.open_photo(right)
