"""Table downloads read back: CSV (pandas) and Excel (openpyxl) hold unrounded numbers, codes as
text, the privacy rule's labels, and the workbook's About sheet; every download is logged."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from streamlit.runtime.media_file_manager import MediaFileManager

from dashboard import downloads
from dashboard.charts import profile
from dashboard.pages import COUNTY_PROFILE, OVERVIEW, REHABILITATION
from queries import rehab
from queries.db import make_engine
from queries.indicators import county_league, county_scorecard
from tests.app_support import THRESHOLD, filters_of, open_page

PARAMS = {"period": "this_fy"}


@pytest.fixture
def engine(demo_db_path: Path):
    return make_engine(f"sqlite:///{demo_db_path}")


def _csv(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)


def _sheets(data: bytes):
    """The workbook's table sheet and its About sheet."""
    book = load_workbook(io.BytesIO(data))
    return book.worksheets[0], book["About"]


def test_league_downloads_are_unrounded_with_codes_as_text(engine) -> None:
    league = county_league(engine, filters_of(PARAMS), THRESHOLD)
    about = [("Period", "2026-07-01 to 2026-11-28"), ("Source", "Usalama test")]

    csv = _csv(downloads.csv_bytes(league, THRESHOLD))
    assert list(csv["county_code"]) == list(league["county_code"])  # '001' keeps its zeros
    assert csv["county_code"].str.fullmatch(r"\d{3}").all()
    rates = pd.to_numeric(csv["incident_rate_per_100k"])
    np.testing.assert_allclose(rates, league["incident_rate_per_100k"], rtol=1e-12)
    assert (rates.round(1) != rates).any(), "the CSV holds unrounded rates"
    assert not csv["incidents_reported"].str.contains(",").any()  # no '12,667'
    assert not any(c.endswith(("_suppressed", "_small")) for c in csv.columns)

    table, info = _sheets(downloads.excel_bytes(league, THRESHOLD, "County league", about))
    header = [c.value for c in table[1]]
    assert header == list(csv.columns)
    code = header.index("county_code") + 1
    rate = header.index("incident_rate_per_100k") + 1
    for row, expected in zip(table.iter_rows(min_row=2), league.itertuples(), strict=True):
        assert row[code - 1].data_type == "s" and row[code - 1].value == expected.county_code
        assert row[rate - 1].data_type == "n"
        assert row[rate - 1].value == pytest.approx(expected.incident_rate_per_100k, rel=1e-12)
    assert [tuple(r) for r in info.iter_rows(values_only=True)] == about


def test_rehab_downloads_keep_the_privacy_labels(engine) -> None:
    filters = filters_of({"period": "last_month"})
    frame = rehab.current_admissions_by_county(engine, filters, THRESHOLD)
    hidden = frame["current_admissions_suppressed"].astype(bool)
    assert hidden.any(), "the demo plants small rehab cells"
    labels = {"<5", "suppressed"}

    csv = _csv(downloads.csv_bytes(frame, THRESHOLD))
    assert set(csv.loc[hidden.to_numpy(), "current_admissions"]) <= labels
    assert "<5" in set(csv["current_admissions"])
    shown = csv.loc[~hidden.to_numpy(), "current_admissions"]
    assert shown.str.fullmatch(r"\d+").all()

    table, _ = _sheets(downloads.excel_bytes(frame, THRESHOLD, "In treatment", []))
    header = [c.value for c in table[1]]
    column = header.index("current_admissions")
    cells = [row[column] for row in table.iter_rows(min_row=2)]
    for cell, is_hidden in zip(cells, hidden, strict=True):
        if is_hidden:
            assert cell.data_type == "s" and cell.value in labels
        elif cell.value is not None:
            assert cell.data_type == "n"
    assert "<5" in {c.value for c in cells}


def test_scorecard_download_holds_numbers_not_text(engine) -> None:
    filters = filters_of({"county": "032", "period": "this_fy"})
    scorecard = county_scorecard(engine, filters, THRESHOLD)
    raw = profile.scorecard_download(scorecard, "032")
    csv = _csv(downloads.csv_bytes(raw, THRESHOLD))
    assert set(csv["county_code"]) == {"032"}
    values = csv.set_index("indicator")["county_value"]
    expected = scorecard.set_index("indicator")
    for key, text in values.items():
        if expected.loc[key, "county_suppressed"]:
            assert text in ("<5", "suppressed")
        elif pd.isna(expected.loc[key, "county_value"]):
            assert text == ""
        else:
            assert float(text) == pytest.approx(expected.loc[key, "county_value"], rel=1e-12)
    assert not values.str.contains(r"[,%]").any()


def _offered(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Record every file a download button offers, at once or when clicked: name -> bytes."""
    offered: dict[str, bytes] = {}
    add = MediaFileManager.add

    def recording(self, path_or_data, mimetype, coordinates, file_name=None, **kwargs):
        if file_name and isinstance(path_or_data, bytes):
            offered[file_name] = path_or_data
        return add(self, path_or_data, mimetype, coordinates, file_name, **kwargs)

    add_deferred = MediaFileManager.add_deferred

    def recording_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        # A file built when its button is clicked (the Excel workbooks): build it here, as the
        # click would.
        if file_name:
            offered[file_name] = data_callable()
        return add_deferred(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", recording)
    monkeypatch.setattr(MediaFileManager, "add_deferred", recording_deferred)
    return offered


@pytest.mark.parametrize(
    ("page", "params"),
    [(OVERVIEW, PARAMS), (COUNTY_PROFILE, {"county": "032"}), (REHABILITATION, PARAMS)],
    ids=["overview", "county", "rehabilitation"],
)
def test_every_table_offers_csv_and_excel_that_read_back(
    demo_db_path: Path, monkeypatch: pytest.MonkeyPatch, caplog, page, params
) -> None:
    offered = _offered(monkeypatch)
    at = open_page(demo_db_path, monkeypatch, params, None if page.default else page.view)
    assert not at.exception, [e.value for e in at.exception]
    csv_buttons = [b for b in at.download_button if b.label == "Download CSV"]
    excel_buttons = [b for b in at.download_button if b.label == "Download Excel"]
    assert csv_buttons and len(csv_buttons) == len(excel_buttons)
    csvs = {n: d for n, d in offered.items() if n.endswith(".csv")}
    books = {n: d for n, d in offered.items() if n.endswith(".xlsx")}
    assert len(csvs) == len(books) >= 1
    for name, data in csvs.items():
        frame = _csv(data)
        for column in frame.columns:
            # Formatted text never reaches a download.
            assert not frame[column].str.fullmatch(r"[\d,]+,\d{3}|[\d.]+%|No data").any(), name
    for data in books.values():
        _, info = _sheets(data)
        about = dict(info.iter_rows(values_only=True))
        assert {"Period", "Comparison", "Counties", "Wards", "Source", "Data as of"} <= set(about)
        assert "data as of" in about["Source"]
        if page is COUNTY_PROFILE:
            assert "032" in about["Counties"]
    with caplog.at_level(logging.INFO, logger="dashboard.audit"):
        excel_buttons[0].click().run()
    records = [r.getMessage() for r in caplog.records if r.name == "dashboard.audit"]
    assert len(records) == 1 and "(Excel)" in records[0]
