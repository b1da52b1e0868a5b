"""The registry: built lazily from the project's file, shared, and kept off import paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from formulary.units import Amount, IncompatibleUnitsError, convert
from formulary.units import registry as reg
from formulary.units.catalog import BY_CANONICAL

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, cache: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, reg.CACHE_ENV: cache}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env
    )


def test_importing_the_package_does_not_import_pint() -> None:
    code = (
        "import sys, formulary.units as u\n"
        "u.format_amount(u.parse_quantity('0.5 mL'))\n"
        "assert 'pint' not in sys.modules, 'pint imported'\n"
        "u.convert(u.parse_quantity('1 g'), 'mg')\n"
        "assert 'pint' in sys.modules\n"
    )
    result = _run(code, "off")
    assert result.returncode == 0, result.stderr


def test_a_warm_cache_spares_importing_pint(tmp_path: Path) -> None:
    code = (
        "import sys, formulary.units as u\n"
        "print(u.convert(u.parse_quantity('0.5% w/v'), 'mcg/mL').value)\n"
        "print('pint' in sys.modules)\n"
    )
    first = _run(code, str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == ["5000", "True"]
    assert list(tmp_path.glob("unit-table-*.json"))
    second = _run(code, str(tmp_path))
    assert second.returncode == 0, second.stderr
    assert second.stdout.split() == ["5000", "False"]


def test_registry_is_one_shared_instance() -> None:
    assert reg.get_registry() is reg.get_registry()
    assert reg.is_loaded()


def test_registry_holds_only_the_project_units() -> None:
    registry = reg.get_registry()
    assert "mcg" in registry
    assert "furlong" not in registry  # Pint's default list is not loaded


def test_registry_is_exact_decimal() -> None:
    assert reg.scale_factor("mcg", "mg") == Decimal("0.001")
    assert reg.scale_factor("% w/v", "mg/mL") == Decimal(10)
    assert reg.scale_factor("U-100 marks", "mL") == Decimal("0.01")


def test_registry_keeps_iu_and_product_units_apart() -> None:
    with pytest.raises(IncompatibleUnitsError):
        reg.scale_factor("IU", "mg")
    with pytest.raises(IncompatibleUnitsError):
        reg.scale_factor("units", "IU")
    with pytest.raises(IncompatibleUnitsError):
        reg.scale_factor("% w/w", "% v/v")


def test_cache_folder_can_be_disabled_or_moved(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(reg.CACHE_ENV, "off")
    assert reg.cache_folder() is None
    monkeypatch.setenv(reg.CACHE_ENV, str(tmp_path))
    assert reg.cache_folder() == tmp_path


def test_cached_build_gives_the_same_factors(tmp_path: Path) -> None:
    first = reg.build_registry(tmp_path)
    assert any(tmp_path.iterdir()), "Pint wrote its cache"
    second = reg.build_registry(tmp_path)
    for registry in (first, second):
        q = registry.Quantity(Decimal(1), registry.parse_units("percent_wv"))
        assert q.to(registry.parse_units("milligram / millilitre")).magnitude == Decimal(10)


def test_unwritable_cache_falls_back(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert "mcg" in reg.build_registry(blocker / "pint")


def test_conversion_uses_the_registry() -> None:
    assert convert(Amount(Decimal("0.5"), "% w/v"), "mg/mL") == Amount(Decimal(5), "mg/mL")


def test_table_matches_direct_pint_conversion() -> None:
    registry = reg.get_registry()
    table = reg.table_from_registry()
    for source, (dims, _) in table.items():
        for target, (other_dims, _) in table.items():
            if dims != other_dims:
                continue
            q = registry.Quantity(Decimal(1), registry.parse_units(BY_CANONICAL[source].pint))
            direct = q.to(registry.parse_units(BY_CANONICAL[target].pint)).magnitude
            assert reg.scale_factor(source, target) == direct, (source, target)


def test_damaged_or_stale_table_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "unit-table.json"
    path.write_text("{not json")
    assert reg._read_table(path) is None
    path.write_text(json.dumps({"mg": ["[mass]", "0.001"]}))
    assert reg._read_table(path) is None  # units missing: stale
    good = reg.table_from_registry()
    reg._write_table(path, good)
    assert reg._read_table(path) == good
    tampered = {unit: [dims, "0"] for unit, (dims, _) in good.items()}
    path.write_text(json.dumps(tampered))
    assert reg._read_table(path) is None


def test_table_key_follows_the_definitions() -> None:
    assert len(reg.table_key()) == 24
    assert reg.table_key() == reg.table_key()


def test_pint_only_ever_sees_catalog_expressions(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = reg.get_registry()
    seen: list[str] = []
    original = registry.parse_units

    def spy(text: str, *args: object, **kwargs: object) -> object:
        seen.append(text)
        return original(text, *args, **kwargs)

    monkeypatch.setattr(registry, "parse_units", spy)
    for name in ("parse_expression", "parse_unit_name"):
        monkeypatch.setattr(registry, name, lambda *a, **k: pytest.fail("free text reached Pint"))
    reg.table_from_registry()
    allowed = {spec.pint for spec in BY_CANONICAL.values() if spec.pint is not None}
    assert seen and set(seen) <= allowed
