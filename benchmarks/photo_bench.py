"""How long attaching a 12-megapixel photo takes, against the target of well under a second.

Run: ``python benchmarks/photo_bench.py [--runs 5] [--heic]``

A synthetic 4000 x 3000 JPEG (a smooth gradient with fine noise, so it compresses like
a phone photo of a few megabytes) carrying GPS and camera EXIF is attached through the
Store to a new SQLite clinic, ``--runs`` times (a different picture each time). Prints
the median and the slowest of:

* the whole ``Store.attach_photo`` call: decode, orientation, re-encode without
  metadata, SHA-256, the file written (fsync) into the managed folder, the row and its
  audit entry committed;
* of which ``prepare_photo`` (decode and re-encode) alone.

Figures are whole-call wall times on this machine; the target is 1 s.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from db import auth
from db.database import open_database
from db.store import PatientFields, Store
from formulary.photos import prepare_photo
from formulary.records import Sex

TARGET_S = 1.0
PASSWORD = "benchmark password"


def picture(seed: int, *, heic: bool = False) -> bytes:
    """A 12-megapixel picture with GPS and camera EXIF, a few MB like a phone's."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:3000, 0:4000]
    base = np.stack([(x / 16 + seed * 7) % 256, (y / 12) % 256, ((x + y) / 28) % 256], axis=-1)
    noisy = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype("uint8")
    image = Image.fromarray(noisy, "RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F], exif[0x0110] = "PhoneMaker", "Model X 12"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 12.0)}
    out = io.BytesIO()
    if heic:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        image.save(out, "HEIF", exif=exif.tobytes(), quality=85)
    else:
        image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--heic", action="store_true", help="attach HEIC instead of JPEG")
    args = parser.parse_args()
    from argon2 import PasswordHasher

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    auth._hasher = lambda: cheap  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        import os

        os.environ["FORMULARY_KEY_DIR"] = str(Path(tmp) / "keys")
        database = open_database(Path(tmp) / "bench.db")
        store = Store(database)
        admin = store.create_first_admin("admin", "Ada Admin", PASSWORD)
        patient = store.create_patient(admin, PatientFields(
            chart_number="B-1", family_name="Bench", given_name="Ben",
            date_of_birth=date(1980, 1, 1), sex=Sex.MALE))
        outcome = store.record_outcome(admin, patient_id=patient.id,
                                       measured_at=datetime.now(UTC), scale_grade="III")
        pictures = [picture(n, heic=args.heic) for n in range(args.runs)]
        whole: list[float] = []
        prepare: list[float] = []
        for data in pictures:
            start = time.perf_counter()
            prepare_photo(data)
            prepare.append(time.perf_counter() - start)
            start = time.perf_counter()
            store.attach_photo(admin, data, patient_id=patient.id, view="vertex",
                               taken_on=date.today(), outcome_id=outcome.id)
            whole.append(time.perf_counter() - start)
        database.dispose()
    kind = "HEIC" if args.heic else "JPEG"
    size = statistics.median(len(p) for p in pictures) / 2**20
    print(f"12-megapixel {kind} (4000x3000, {size:.1f} MB), {args.runs} runs:")
    print(f"  attach (whole Store call): median {statistics.median(whole):.3f} s, "
          f"slowest {max(whole):.3f} s   target < {TARGET_S:.1f} s "
          f"({'met' if max(whole) < TARGET_S else 'NOT met'})")
    print(f"  of which decode + strip + re-encode: median {statistics.median(prepare):.3f} s")


if __name__ == "__main__":
    main()
