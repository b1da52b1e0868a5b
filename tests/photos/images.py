"""Test pictures made with Pillow: a JPEG carrying GPS and camera EXIF, a PNG, a HEIC."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F
MODEL = 0x0110


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    """EXIF naming a camera and a position (51.5 N, 0.12 W): what must not be kept."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "PhoneMaker"
    exif[MODEL] = "Model X 12"
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 12.0)}
    return exif


def jpeg(
    width: int = 64, height: int = 32, *, color: tuple[int, int, int] = (180, 90, 40),
    orientation: int = 1,
) -> bytes:
    """A JPEG with GPS and camera EXIF."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(
        out, "JPEG", exif=exif_with_gps(orientation).tobytes(), comment=b"taken at home"
    )
    return out.getvalue()


def png(
    width: int = 48, height: int = 48, *, color: tuple[int, int, int] = (20, 120, 200)
) -> bytes:
    """A PNG with an EXIF chunk (GPS and camera)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG", exif=exif_with_gps().tobytes())
    return out.getvalue()


def heic(width: int = 40, height: int = 24) -> bytes:
    """A HEIC (through pillow-heif) with GPS and camera EXIF."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 160, 60)).save(
        out, "HEIF", exif=exif_with_gps().tobytes()
    )
    return out.getvalue()


def gif() -> bytes:
    """An image of a format Formulary does not take."""
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, "GIF")
    return out.getvalue()


def has_location_or_camera(data: bytes) -> bool:
    """Whether the file read back carries a GPS IFD, a camera make/model, or any EXIF."""
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        return bool(exif.get_ifd(GPS_IFD)) or MAKE in exif or MODEL in exif or bool(
            dict(exif)
        ) or "exif" in image.info or "comment" in image.info
