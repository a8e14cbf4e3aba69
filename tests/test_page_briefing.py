"""The Briefing page (AppTest) and frozen snapshots: the slide shown is the model's, ?slide=N
opens one slide, previous/next move, a frozen snapshot keeps its figures after the database
changes while a new one shows the new figures, and only the right people open or delete one."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import sqlite3
from pathlib import Path

import pytest
from pptx import Presentation
from streamlit.runtime.media_file_manager import MediaFileManager

from dashboard.pages import BRIEFING
from queries.briefing import build_briefing
from queries.briefing.snapshots import (
    SNAPSHOT_DB_ENV_VAR,
    SnapshotError,
    SnapshotStore,
    covered_counties,
    snapshot_path,
)
from queries.db import make_engine
from queries.filters import Filters
from tests.app_support import clear_caches, open_page, run_app, use_demo_db
from tests.clock import TEST_AS_OF

THRESHOLD = 5


@pytest.fixture
def snapshot_db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "snapshots.sqlite"
    monkeypatch.setenv(SNAPSHOT_DB_ENV_VAR, str(path))
    return path


def _slide_html(at) -> str:
    shown = [h.proto.body for h in at.get("html") if "bslide" in h.proto.body]
    assert len(shown) == 1
    return shown[0]


def test_the_page_shows_the_model_slide_by_slide(demo_db_path, monkeypatch, snapshot_db) -> None:
    offered: dict[str, object] = {}
    add_deferred = MediaFileManager.add_deferred

    def recording(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        offered[str(file_name)] = data_callable
        return add_deferred(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", recording)
    at = open_page(demo_db_path, monkeypatch, {"county": "032", "slide": "2"}, BRIEFING.view)
    assert not at.exception, [e.value for e in at.exception]
    filters = Filters(start=TEST_AS_OF - dt.timedelta(days=27), end=TEST_AS_OF, counties=("032",))
    model = build_briefing(make_engine(f"sqlite:///{demo_db_path}"), filters, THRESHOLD)
    html = _slide_html(at)
    assert 'data-slide="2"' in html and "<h1>Incidents</h1>" in html
    figure = next(f for f in model.slides[1].figures if f.key == "incidents_reported")
    assert f'<div class="value">{figure.text}</div>' in html
    assert model.slides[1].sentences[0].replace("'", "&#x27;") in html
    # Next moves on; the link keeps the filters and names the slide.
    next_button = next(b for b in at.button if b.label == "Next")
    next_button.click().run()
    assert 'data-slide="3"' in _slide_html(at)
    assert at.query_params["slide"] == "3" and at.query_params["county"] == "032"
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download PowerPoint (.pptx)", "Download Excel (.xlsx)", "Download PDF"]
    # The files are built when a button is clicked, from the model the page shows.
    deck = next(make for name, make in offered.items() if name.endswith(".pptx"))
    slides = Presentation(io.BytesIO(deck())).slides
    assert len(slides) == len(model.slides)
    pdf = next(make for name, make in offered.items() if name.endswith(".pdf"))
    assert pdf().startswith(b"%PDF")


def test_a_slide_number_out_of_range_is_kept_within_the_deck(
    demo_db_path, monkeypatch, snapshot_db
) -> None:
    at = open_page(demo_db_path, monkeypatch, {"slide": "99"}, BRIEFING.view)
    assert 'data-slide="6"' in _slide_html(at)  # national: 5 slides + definitions
    at = run_app({"slide": "x<script>"}, BRIEFING.view)
    assert 'data-slide="1"' in _slide_html(at)


def _scale_incidents(db: Path, keep_every: int) -> None:
    """Change the reporting database: delete all but every `keep_every`-th incident."""
    with sqlite3.connect(db) as connection:
        connection.execute(f"DELETE FROM incidents WHERE id % {keep_every} != 0")


def test_a_snapshot_keeps_its_figures_after_the_database_changes(
    demo_db_path, tmp_path, monkeypatch, snapshot_db
) -> None:
    db = tmp_path / "changing.sqlite"
    shutil.copy(demo_db_path, db)
    use_demo_db(db, monkeypatch)
    clear_caches()
    first, last = TEST_AS_OF - dt.timedelta(days=27), TEST_AS_OF
    period = {"period": "custom", "from": f"{first}", "to": f"{last}"}
    at = run_app(period, BRIEFING.view)
    before = _slide_html(at)
    next(b for b in at.button if b.label == "Freeze for the meeting").click().run()
    snapshot_id = at.query_params["snapshot"]
    assert _slide_html(at) == before

    _scale_incidents(db, keep_every=2)
    clear_caches()
    frozen = run_app({"snapshot": snapshot_id}, BRIEFING.view)
    assert _slide_html(frozen) == before  # the same numbers, after the change
    live = run_app(period, BRIEFING.view)
    assert _slide_html(live) != before

    # A new snapshot shows the new figures; the first still shows the old ones.
    next(b for b in live.button if b.label == "Freeze for the meeting").click().run()
    second = live.query_params["snapshot"]
    assert second != snapshot_id
    store = SnapshotStore(snapshot_db)
    old = store.open(snapshot_id, None).model
    new = store.open(second, None).model
    old_count, new_count = (
        next(f.value for f in m.slides[0].figures if f.key == "incidents_reported")
        for m in (old, new)
    )
    engine = make_engine(f"sqlite:///{db}")
    filters = Filters(start=first, end=last, preset="custom")
    fresh = build_briefing(engine, filters, THRESHOLD)
    assert new_count == next(
        f.value for f in fresh.slides[0].figures if f.key == "incidents_reported"
    )
    assert old_count > new_count > 0
    # The snapshot store is not the reporting database.
    with sqlite3.connect(db) as connection:
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    assert "briefing_snapshots" not in tables


def test_snapshot_scope_and_deletion(demo_db_path, tmp_path) -> None:
    engine = make_engine(f"sqlite:///{demo_db_path}")
    period = {"start": dt.date(2026, 10, 1), "end": dt.date(2026, 10, 28), "preset": "custom"}
    national = build_briefing(engine, Filters(**period), THRESHOLD)
    nakuru = build_briefing(engine, Filters(**period, scope=("032",)), THRESHOLD)
    assert covered_counties(national) is None and covered_counties(nakuru) == ("032",)
    store = SnapshotStore(tmp_path / "s.sqlite")
    national_id = store.save(national, "ps@interior.go.ke")
    nakuru_id = store.save(nakuru, "coordinator.nakuru@interior.go.ke")
    # A county user opens only snapshots within their counties.
    assert store.open(nakuru_id, ("032",)).model == nakuru
    with pytest.raises(SnapshotError):
        store.open(national_id, ("032",))
    with pytest.raises(SnapshotError):
        store.open(nakuru_id, ("001",))
    assert [s.id for s in store.list(("032",))] == [nakuru_id]
    assert {s.id for s in store.list(None)} == {national_id, nakuru_id}
    # Delete: the author or an administrator, nobody else.
    with pytest.raises(SnapshotError):
        store.delete(national_id, "coordinator.nakuru@interior.go.ke", is_admin=False)
    store.delete(nakuru_id, "coordinator.nakuru@interior.go.ke", is_admin=False)
    store.delete(national_id, "data.team@interior.go.ke", is_admin=True)
    assert store.list(None) == []


def test_the_snapshot_file_is_never_the_reporting_database(tmp_path) -> None:
    db = tmp_path / "reporting.sqlite"
    with pytest.raises(SnapshotError):
        snapshot_path(f"sqlite:///{db}", {SNAPSHOT_DB_ENV_VAR: str(db)})
    assert snapshot_path(f"sqlite:///{db}", {SNAPSHOT_DB_ENV_VAR: str(tmp_path / "s.db")}) == (
        tmp_path / "s.db"
    )


def test_a_county_user_cannot_open_a_national_snapshot_by_link(
    demo_db_path, monkeypatch, snapshot_db
) -> None:
    engine = make_engine(f"sqlite:///{demo_db_path}")
    filters = Filters(start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 28), preset="custom")
    snapshot_id = SnapshotStore(snapshot_db).save(build_briefing(engine, filters, 5), "ps")
    use_demo_db(demo_db_path, monkeypatch)
    clear_caches()
    at = run_app({"snapshot": snapshot_id})
    at.radio(key="demo_role").set_value("county").run()
    at = at.switch_page(BRIEFING.view).run()
    at.query_params["snapshot"] = snapshot_id
    at.run()
    assert not [h for h in at.get("html") if "bslide" in h.proto.body]
    assert any("no snapshot with this link" in e.value for e in at.error)


def test_the_rehab_slide_shows_like_for_like_completion_not_the_recent_artefact(
    demo_db_path,
) -> None:
    engine = make_engine(f"sqlite:///{demo_db_path}")
    filters = Filters(start=TEST_AS_OF - dt.timedelta(days=27), end=TEST_AS_OF)
    model = build_briefing(engine, filters, THRESHOLD)
    rehab = next(slide for slide in model.slides if slide.key == "rehabilitation")
    keys = [figure.key for figure in rehab.figures]
    assert "referral_completion_pct" not in keys and "referral_completion_90d_pct" in keys
    assert len(keys) == 6  # one row of cards on a projected slide
    # No referral of the last 28 days is 90 days old: the figure names the referrals it covers.
    first = TEST_AS_OF - dt.timedelta(days=90 + 27)
    last = TEST_AS_OF - dt.timedelta(days=90)
    within = next(f for f in rehab.figures if f.key == "referral_completion_90d_pct")
    assert within.note_short == f"referred {first:%d %b} – {last:%d %b}"
    assert within.value is not None or within.hidden
