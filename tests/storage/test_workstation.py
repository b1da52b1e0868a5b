"""The workstation's name in audit entries: named by the clinic, else the host name."""

from __future__ import annotations

import socket

import pytest

from db.workstation import ENV_VAR, workstation_name


def test_a_named_workstation_is_recorded_by_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "  Treatment room 2 ")
    assert workstation_name() == "Treatment room 2"
    monkeypatch.setenv(ENV_VAR, "x" * 300)
    assert len(workstation_name()) == 200


def test_without_a_name_the_host_name_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert workstation_name() == (socket.gethostname() or "unknown")[:200]
    monkeypatch.setenv(ENV_VAR, "   ")
    assert workstation_name() == (socket.gethostname() or "unknown")[:200]
