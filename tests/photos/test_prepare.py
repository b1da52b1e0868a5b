"""The metadata-stripping copy: whatever the picture and its EXIF, none of it survives."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from formulary.photos import (
    VIEWS,
    PhotoRejected,
    PhotoView,
    check_size,
    export_file_name,
    prepare_photo,
)
from tests.photos import images

#: Orientations 5-8 swap width and height.
SWAPS = {5, 6, 7, 8}


@settings(max_examples=60, deadline=None)
@given(
    width=st.integers(1, 64),
    height=st.integers(1, 64),
    orientation=st.integers(1, 8),
    fmt=st.sampled_from(["JPEG", "PNG"]),
    mode=st.sampled_from(["RGB", "L", "RGBA", "P"]),
    make=st.text(min_size=1, max_size=20).filter(lambda t: "\x00" not in t),
)
def test_no_exif_survives_and_orientation_is_applied(
    width: int, height: int, orientation: int, fmt: str, mode: str, make: str
) -> None:
    if fmt == "JPEG" and mode in {"RGBA", "P"}:
        mode = "RGB"
    exif = images.exif_with_gps(orientation)
    exif[images.MAKE] = make
    source = io.BytesIO()
    Image.new(mode, (width, height)).save(source, fmt, exif=exif.tobytes())
    prepared = prepare_photo(source.getvalue())
    with Image.open(io.BytesIO(prepared.data)) as back:
        assert not back.getexif(), "no EXIF at all"
        assert not back.getexif().get_ifd(images.GPS_IFD)
        assert "exif" not in back.info and "xmp" not in back.info
        expected = (height, width) if orientation in SWAPS else (width, height)
        assert back.size == expected == (prepared.width, prepared.height)
        assert back.format == fmt
    assert prepared.media_type == ("image/png" if fmt == "PNG" else "image/jpeg")


def test_heic_becomes_a_jpeg_without_metadata() -> None:
    prepared = prepare_photo(images.heic())
    assert prepared.media_type == "image/jpeg" and prepared.source_format in {"HEIF", "HEIC"}
    assert not images.has_location_or_camera(prepared.data)


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=512), st.sampled_from([b"", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"]))
def test_any_bytes_are_an_image_or_one_clear_refusal(data: bytes, magic: bytes) -> None:
    data = magic + data
    try:
        prepare_photo(data)
    except PhotoRejected as exc:
        assert str(exc) and "\n" not in str(exc)


def test_a_truncated_photo_is_one_clear_refusal() -> None:
    whole = images.jpeg(200, 100)
    for cut in (20, len(whole) // 2, len(whole) - 10):
        with pytest.raises(PhotoRejected):
            prepare_photo(whole[:cut])


def test_size_limit_and_empty_file() -> None:
    check_size(10, 10)
    with pytest.raises(PhotoRejected, match=r"larger than the clinic's photo limit of 0\.0 MB"):
        check_size(11, 10)
    with pytest.raises(PhotoRejected, match="empty"):
        check_size(0, 10)
    with pytest.raises(PhotoRejected, match="larger"):
        prepare_photo(images.jpeg(), limit=100)


def test_views_are_declared_once_with_labels() -> None:
    assert [v.value for v in VIEWS] == [
        "frontal", "vertex", "left", "right", "occipital", "trichoscopy"]
    assert PhotoView.LEFT.label == "Left side"


def test_export_name_carries_no_patient_name() -> None:
    from datetime import date

    from formulary.photos import Photo

    photo = Photo(id=3, patient_id=1, view=PhotoView.VERTEX, taken_on=date(2026, 1, 2),
                  sha256="0" * 64, size_bytes=1, media_type="image/png", width=1, height=1)
    assert export_file_name("C/../12", photo) == "C____12_vertex_2026-01-02_photo3.png"
