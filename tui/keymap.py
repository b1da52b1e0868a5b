"""The clinic's own settings for the app: key remapping, idle lock and theme.

Read from ``config.toml`` in the platform's user config directory
(``platformdirs.user_config_dir("formulary")``)::

    idle_lock_minutes = 5          # at most 15
    theme = "textual-light"
    time_zone = "Europe/Zurich"    # the clinic's zone (default: this machine's)

    [keymap]
    lock = "ctrl+l"                # binding id = key(s), comma separated

Every ``Binding`` in the app carries an id so that any of them can be remapped.
A broken file never stops the app: it falls back to the defaults and says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_IDLE_MINUTES = 5.0
MAX_IDLE_MINUTES = 15.0
DEFAULT_THEME = "textual-dark"


@dataclass(frozen=True, slots=True)
class Settings:
    """What the config file may set, already validated."""

    idle_lock_minutes: float = DEFAULT_IDLE_MINUTES
    theme: str = DEFAULT_THEME
    keymap: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    #: The clinic's IANA time zone ("" = this machine's): local times beside UTC.
    time_zone: str = ""

    @property
    def idle_lock_seconds(self) -> float:
        """The idle time before the screen locks, in seconds."""
        return self.idle_lock_minutes * 60


def config_path() -> Path:
    """Where the clinic's config file lives on this machine."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("formulary")) / "config.toml"


def parse_settings(text: str) -> Settings:
    """Validate the text of a config file; problems are collected, never raised."""
    # Imported here: a workstation without a config file never pays for it at start-up.
    import tomllib

    problems: list[str] = []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return Settings(problems=(f"config.toml is not valid TOML ({exc}); using defaults",))

    idle = DEFAULT_IDLE_MINUTES
    raw_idle = data.get("idle_lock_minutes", DEFAULT_IDLE_MINUTES)
    if isinstance(raw_idle, bool) or not isinstance(raw_idle, int | float) or raw_idle <= 0:
        problems.append("idle_lock_minutes must be a number of minutes above 0; using 5")
    elif raw_idle > MAX_IDLE_MINUTES:
        problems.append("idle_lock_minutes is capped at 15 minutes; using 15")
        idle = MAX_IDLE_MINUTES
    else:
        idle = float(raw_idle)

    theme = data.get("theme", DEFAULT_THEME)
    if not isinstance(theme, str) or not theme:
        problems.append('theme must be a theme name such as "textual-light"; using the default')
        theme = DEFAULT_THEME

    keymap: dict[str, str] = {}
    raw_keymap = data.get("keymap", {})
    if not isinstance(raw_keymap, dict):
        problems.append('[keymap] must be a table of binding id = "key"; ignoring it')
    else:
        for binding_id, keys in raw_keymap.items():
            if isinstance(keys, str) and keys.strip():
                keymap[str(binding_id)] = keys.strip()
            else:
                problems.append(f'keymap entry {binding_id!r} must be a key such as "ctrl+l"')
    zone = data.get("time_zone", "")
    if not isinstance(zone, str) or (zone and not _known_zone(zone)):
        problems.append(
            f"time_zone {zone!r} is not a time zone name such as \"Europe/Zurich\"; "
            "using this machine's zone"
        )
        zone = ""
    return Settings(
        idle_lock_minutes=idle,
        theme=theme,
        keymap=keymap,
        problems=tuple(problems),
        time_zone=zone,
    )


def _known_zone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def apply_time_zone(name: str) -> None:
    """Make ``name`` (an IANA zone, validated) this process's local zone.

    Every local time on screen and in exports is then the clinic's, shown beside UTC;
    "" leaves the machine's own zone.
    """
    import os
    import time

    if name and hasattr(time, "tzset"):
        os.environ["TZ"] = name
        time.tzset()


def load_settings(path: Path | None = None) -> Settings:
    """Read the config file (or the given one); a missing file means the defaults."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        return Settings(problems=(f"cannot read {path} ({exc.strerror}); using defaults",))
    return parse_settings(text)
