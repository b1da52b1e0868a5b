"""Clinical photographs: the standard views, the record, and the metadata-stripping copy.

Hair-loss outcomes are judged on standardized photographs: the same view of the
scalp on two dates. The views are declared here once; the Store, the CLI, the app, the
PDF and FHIR exports all read them from :data:`VIEWS`.

:func:`prepare_photo` is what every attached file goes through: decode (JPEG, PNG, and
HEIC through ``pillow-heif``), apply the EXIF orientation to the pixels, and encode a
fresh file that carries no EXIF at all (no GPS position, no camera make, model, serial
number or capture settings), no XMP and no comments; only the colour profile is kept.
The stored bytes, not the original file, are what the SHA-256 names.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

#: Default largest file accepted for a photo (a clinic setting can change it).
DEFAULT_MAX_BYTES = 25 * 1024 * 1024
#: The clinic setting's bounds: 1 MB to 200 MB.
MIN_MAX_BYTES = 1024 * 1024
MAX_MAX_BYTES = 200 * 1024 * 1024
#: Largest picture decoded, in pixels (about 100 megapixels): refuses decompression bombs.
MAX_PIXELS = 100_000_000

#: JPEG quality of the stored copy: visually lossless for clinical comparison.
JPEG_QUALITY = 92


class PhotoView(StrEnum):
    """The standardized views of the scalp a clinic photographs."""

    FRONTAL = "frontal"
    VERTEX = "vertex"
    LEFT = "left"
    RIGHT = "right"
    OCCIPITAL = "occipital"
    TRICHOSCOPY = "trichoscopy"

    @property
    def label(self) -> str:
        """How the view is printed (PDF headings, the app's lists)."""
        return _LABELS[self]


_LABELS = {
    PhotoView.FRONTAL: "Frontal",
    PhotoView.VERTEX: "Vertex",
    PhotoView.LEFT: "Left side",
    PhotoView.RIGHT: "Right side",
    PhotoView.OCCIPITAL: "Occipital",
    PhotoView.TRICHOSCOPY: "Trichoscopy",
}

#: Every view, in the order the chart prints them.
VIEWS: tuple[PhotoView, ...] = tuple(PhotoView)

#: Media types of the stored copies (HEIC is stored as JPEG).
STORED_TYPES = ("image/jpeg", "image/png")


@dataclass(frozen=True, slots=True)
class Photo:
    """One attached photograph as the record keeps it (the file is named by ``sha256``)."""

    id: int
    patient_id: int
    view: PhotoView
    taken_on: date
    sha256: str
    size_bytes: int
    media_type: str
    width: int
    height: int
    session_id: int | None = None
    outcome_id: int | None = None
    note: str = ""
    attached_at: datetime | None = None
    attached_by: str = ""
    retired_at: datetime | None = None
    retired_reason: str = ""

    @property
    def retired(self) -> bool:
        """True when the photo was withdrawn (kept for the record, not shown as current)."""
        return self.retired_at is not None

    @property
    def extension(self) -> str:
        """The file extension of the stored copy (``.jpg`` or ``.png``)."""
        return ".png" if self.media_type == "image/png" else ".jpg"


def export_file_name(chart_number: str, photo: Photo) -> str:
    """The name of an exported copy: chart number, view, date and id (no patient name)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in chart_number) or "patient"
    when = photo.taken_on.isoformat()
    return f"{safe}_{photo.view.value}_{when}_photo{photo.id}{photo.extension}"


class PhotoRejected(ValueError):
    """The file cannot be attached as a photo; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class PreparedPhoto:
    """The stripped copy to store: its bytes, media type and pixel size."""

    data: bytes
    media_type: str
    width: int
    height: int
    source_format: str


_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_registered = True


def check_size(size: int, limit: int) -> None:
    """Refuse a file larger than ``limit`` bytes (before reading it whole)."""
    if size > limit:
        raise PhotoRejected(
            f"the file is {_mb(size)}, larger than the clinic's photo limit of {_mb(limit)}; "
            "export a smaller copy from the camera or phone, or ask an administrator to "
            "raise the limit (formulary clinic set --photo-limit-mb N)"
        )
    if size == 0:
        raise PhotoRejected("the file is empty; choose the photo file itself")


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def prepare_photo(data: bytes, limit: int = DEFAULT_MAX_BYTES) -> PreparedPhoto:
    """Decode ``data`` and re-encode it without location or camera metadata.

    JPEG and HEIC become JPEG (quality 92), PNG stays PNG (lossless). The EXIF
    orientation is applied to the pixels first, so the picture still stands the right
    way up once the EXIF block is gone. Raises :class:`PhotoRejected` for a file that is
    too large, not an image, an image of another format, or damaged.
    """
    check_size(len(data), limit)
    from PIL import Image, ImageOps, UnidentifiedImageError

    _register_heif()
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as opened:
            source = (opened.format or "").upper()
            if source not in {"JPEG", "PNG", "HEIF", "HEIC"}:
                raise PhotoRejected(
                    f"the file is a {source or 'unknown'} image; attach a JPEG, PNG or HEIC "
                    "photo"
                )
            if opened.width * opened.height > MAX_PIXELS:
                raise PhotoRejected(
                    f"the picture is {opened.width}x{opened.height} pixels, more than "
                    f"{MAX_PIXELS // 1_000_000} megapixels; export a smaller copy"
                )
            icc = opened.info.get("icc_profile")
            upright = ImageOps.exif_transpose(opened)
            upright.load()
            # The copy keeps the source's EXIF, XMP and comments in .info, and recent
            # Pillow writes some of them back on save by default: start from nothing.
            upright.info = {}
    except PhotoRejected:
        raise
    except UnidentifiedImageError as exc:
        raise PhotoRejected(
            "the file is not an image Formulary can read; attach a JPEG, PNG or HEIC photo"
        ) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected(
            f"the picture has more than {MAX_PIXELS // 1_000_000} megapixels; export a "
            "smaller copy"
        ) from exc
    except Exception as exc:
        # Decoders raise many kinds of error on a damaged file (OSError, SyntaxError,
        # EOFError, struct.error, IndexError …): every one is the same answer to the user.
        detail = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise PhotoRejected(
            f"the image file is damaged or cut short ({detail}); copy it again from the camera"
        ) from exc
    out = io.BytesIO()
    extra = {"icc_profile": icc} if isinstance(icc, bytes) and icc else {}
    if source == "PNG":
        image = upright if upright.mode in {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"} else (
            upright.convert("RGBA")
        )
        # A fresh PngInfo-free save writes no tEXt/iTXt/eXIf chunks.
        image.save(out, format="PNG", optimize=False, **extra)
        media = "image/png"
    else:
        image = upright if upright.mode in {"RGB", "L"} else upright.convert("RGB")
        image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=False, **extra)
        media = "image/jpeg"
    return PreparedPhoto(
        data=out.getvalue(),
        media_type=media,
        width=image.width,
        height=image.height,
        source_format=source,
    )


def before_after(photos: list[Photo] | tuple[Photo, ...]) -> list[tuple[PhotoView, Photo, Photo]]:
    """Per view, the earliest and the latest current photo (same photo if only one).

    Retired photos are left out. Views without a photo are skipped; the order is
    :data:`VIEWS`. Ties on the date are broken by the attach order (the id).
    """
    pairs: list[tuple[PhotoView, Photo, Photo]] = []
    for view in VIEWS:
        of_view = sorted(
            (p for p in photos if p.view is view and not p.retired),
            key=lambda p: (p.taken_on, p.id),
        )
        if of_view:
            pairs.append((view, of_view[0], of_view[-1]))
    return pairs
