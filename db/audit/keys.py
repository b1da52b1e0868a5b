"""The per-installation Ed25519 key that signs audit checkpoints.

The key lives outside the database, so that someone who can rewrite the database
cannot also re-sign its checkpoints. Where it lives, in order: an explicit
directory argument, else ``$FORMULARY_KEY_DIR``, else the user config directory
(``<config>/formulary/keys``). Files: ``<db_id>.ed25519`` (PKCS#8 PEM, 0600),
``<db_id>.ed25519.pub`` (the public key, for auditors on other machines) and
``<db_id>.checkpoints`` (append-only log of every checkpoint made), in a 0700
directory.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

KEY_DIR_ENV = "FORMULARY_KEY_DIR"
_DB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")


class CheckpointKeyError(Exception):
    """Base of key problems; the message says what to do."""


class KeyMissingError(CheckpointKeyError):
    """No key has been created for this database in the key directory."""


class KeyUnsafeError(CheckpointKeyError):
    """The key file exists but is unreadable, malformed, or readable by others."""


@dataclass(frozen=True, slots=True)
class InstallationKey:
    """A loaded signing key and the files that belong to it."""

    db_id: str
    private_key: Ed25519PrivateKey
    key_id: str
    path: Path
    log_path: Path

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The verifying half."""
        return self.private_key.public_key()


def _check_db_id(db_id: str) -> None:
    if not _DB_ID.match(db_id):
        raise ValueError(f"database id {db_id!r} cannot name a key file (letters, digits, - and _)")


def resolve_key_dir(key_dir: Path | str | None = None) -> Path:
    """The directory holding keys: ``key_dir``, else ``$FORMULARY_KEY_DIR``, else config."""
    if key_dir is not None:
        return Path(key_dir)
    env = os.environ.get(KEY_DIR_ENV)
    if env:
        return Path(env)
    import platformdirs

    return platformdirs.user_config_path("formulary") / "keys"


def key_path(db_id: str, key_dir: Path | str | None = None) -> Path:
    """Where the private key of ``db_id`` lives."""
    _check_db_id(db_id)
    return resolve_key_dir(key_dir) / f"{db_id}.ed25519"


def checkpoint_log_path(db_id: str, key_dir: Path | str | None = None) -> Path:
    """The append-only log of checkpoints made for ``db_id``, next to its key."""
    _check_db_id(db_id)
    return resolve_key_dir(key_dir) / f"{db_id}.checkpoints"


def public_key_path(db_id: str, key_dir: Path | str | None = None) -> Path:
    """The exported public key of ``db_id``."""
    return key_path(db_id, key_dir).with_name(f"{db_id}.ed25519.pub")


def raw_public_bytes(public_key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    return public_key.public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """Short fingerprint printed on checkpoints: first 16 hex of SHA-256(raw public key)."""
    return hashlib.sha256(raw_public_bytes(public_key)).hexdigest()[:16]


def _write_new(path: Path, data: bytes) -> bool:
    """Write ``data`` to a new 0600 file atomically; False if ``path`` already exists."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        # link() fails if the target exists: two processes racing to create the key
        # end up sharing the first one's key, never overwriting it.
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink()


def _ensure_dir(directory: Path) -> None:
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)


def load_key(db_id: str, key_dir: Path | str | None = None) -> InstallationKey:
    """Load the key of ``db_id``; :class:`KeyMissingError` if none was created."""
    path = key_path(db_id, key_dir)
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise KeyMissingError(
            f"no checkpoint key for database {db_id} in {path.parent}; "
            "run `formulary audit checkpoint` on the installation that owns it"
        ) from exc
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyUnsafeError(
            f"key file {path} is accessible by other users (mode {stat.S_IMODE(info.st_mode):o});"
            f" run: chmod 600 {path}"
        )
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise KeyUnsafeError(f"key file {path} cannot be read as a PEM private key: {exc}") from exc
    log_path = checkpoint_log_path(db_id, key_dir)
    # Every write checks the key; the file is read each time, and only parsing it
    # again is skipped while its bytes are exactly the ones parsed before.
    cached = _PARSED.get((path, log_path))
    if cached is not None and cached[0] == pem:
        return cached[1]
    try:
        loaded = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyUnsafeError(f"key file {path} cannot be read as a PEM private key: {exc}") from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise KeyUnsafeError(f"key file {path} does not hold an Ed25519 key")
    key = InstallationKey(
        db_id=db_id,
        private_key=loaded,
        key_id=key_id_of(loaded.public_key()),
        path=path,
        log_path=log_path,
    )
    _PARSED[(path, log_path)] = (pem, key)
    return key


#: Key files parsed by :func:`load_key`, by path: the exact bytes and the key they hold.
_PARSED: dict[tuple[Path, Path], tuple[bytes, InstallationKey]] = {}


def load_or_create_key(db_id: str, key_dir: Path | str | None = None) -> InstallationKey:
    """Load the key of ``db_id``, creating it (0600 in a 0700 directory) the first time."""
    path = key_path(db_id, key_dir)
    if not path.exists():
        _ensure_dir(path.parent)
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.PKCS8,
            encryption_algorithm=serialization.NoEncryption(),
        )
        if _write_new(path, pem):
            public = private.public_key()
            line = (
                f"formulary-ed25519 {base64.b64encode(raw_public_bytes(public)).decode()} "
                f"key={key_id_of(public)} db={db_id}\n"
            )
            pub = public_key_path(db_id, key_dir)
            pub.unlink(missing_ok=True)
            _write_new(pub, line.encode())
    return load_key(db_id, key_dir)


def read_public_key(path: Path) -> Ed25519PublicKey:
    """Read a ``.ed25519.pub`` file written by :func:`load_or_create_key`."""
    try:
        fields = path.read_text(encoding="utf-8").split()
        if len(fields) < 2 or fields[0] != "formulary-ed25519":
            raise ValueError("not a formulary-ed25519 public key line")
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(fields[1], validate=True))
    except (OSError, ValueError) as exc:
        raise KeyUnsafeError(f"public key file {path} cannot be read: {exc}") from exc
