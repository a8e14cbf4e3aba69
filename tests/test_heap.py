"""The server freezes its long-lived objects once per process (dashboard/heap.py): after the
app's imports, on its first run, and never again; USALAMA_GC_FREEZE=0 turns it off. What it
saves (the seconds of each full garbage collection during a page) is measured by
bench/bench_scale.py, not asserted here."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from dashboard import heap
from tests.app_support import clear_caches, run_app, use_demo_db


def test_the_app_freezes_its_long_lived_objects_on_its_first_run_only(
    demo_db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen: list[int] = []
    # Recorded instead of done: this test process is not the server.
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(len(gc.get_objects())))
    monkeypatch.setattr(heap._once, "done", False)
    monkeypatch.delenv(heap.GC_FREEZE_ENV_VAR, raising=False)
    use_demo_db(demo_db_path, monkeypatch)
    clear_caches()
    for params in ({}, {"county": "032"}, {"period": "this_fy"}):
        assert not run_app(params).exception
    assert len(frozen) == 1
    # The app's own modules were imported by then: what it freezes includes them.
    assert frozen[0] > 10_000

    monkeypatch.setattr(heap._once, "done", False)
    monkeypatch.setenv(heap.GC_FREEZE_ENV_VAR, "0")
    assert not run_app({}).exception
    assert len(frozen) == 1
    clear_caches()
