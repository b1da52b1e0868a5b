"""One side of the photo comparison: the picture, or what it is and how to open it."""

from __future__ import annotations

import io

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from formulary.photos import Photo
from tui.photo_display import graphics


def describe(photo: Photo) -> str:
    """Size, format and hash of a photo, as the panel and the list show them."""
    kind = "PNG" if photo.media_type == "image/png" else "JPEG"
    size = (f"{photo.size_bytes / 2**20:.1f} MB" if photo.size_bytes >= 2**20
            else f"{max(1, round(photo.size_bytes / 1024))} KB")
    return (
        f"{photo.width} × {photo.height} px, {kind}, {size}\n"
        f"SHA-256 {photo.sha256[:16]}…"
    )


class PhotoPanel(Vertical):
    """A caption and either the picture (Kitty/Sixel terminals) or a clear fallback.

    The fallback is never an empty box: it names the photo and the key that opens it in
    the system viewer. Pictures are drawn only when :func:`tui.photo_display.graphics`
    found a terminal that draws them (never in tests, whose snapshots must not depend
    on the terminal).
    """

    def __init__(self, side: str, open_key: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="photo-panel")
        self.side = side
        self.open_key = open_key
        self.photo: Photo | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"{self.side}: no photo chosen", classes="photo-caption")
        yield Static(
            "Choose a view and a date above.", classes="photo-fallback"
        )

    async def show(self, photo: Photo | None, data: bytes | None = None) -> None:
        """Show ``photo`` (its stored bytes ``data`` are needed only to draw it)."""
        self.photo = photo
        caption = self.query_one(".photo-caption", Static)
        for child in list(self.children)[1:]:
            await child.remove()
        if photo is None:
            caption.update(f"{self.side}: no photo of this view")
            await self.mount(Static("Attach one from the photo list.",
                                    classes="photo-fallback"))
            return
        caption.update(Text.assemble(
            (f"{self.side}: ", "bold"), f"{photo.view.label}, {photo.taken_on.isoformat()}",
            f"  (photo {photo.id})",
        ))
        if graphics() is not None and data is not None:
            from PIL import Image as PILImage
            from textual_image.widget import Image

            await self.mount(Image(PILImage.open(io.BytesIO(data)), classes="photo-image"))
            return
        await self.mount(Static(
            f"This terminal does not draw pictures.\n"
            f"Press {self.open_key} to open this photo in the image viewer.\n\n"
            f"{describe(photo)}",
            classes="photo-fallback",
        ))
