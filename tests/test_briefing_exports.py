"""The briefing's deck, workbook and PDF against the query layer and the raw rows, on SQLite and
PostgreSQL, for the whole country and for one small county; and no hidden rehab figure in any.

Expectations are computed independently where they can be: pandas over the demo's raw rows for
counts (incidents and forums per week, referrals, targets), the query layer's own suppressed
frames for what the privacy rule hides.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import itertools
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from pptx import Presentation
from pypdf import PdfReader

from dashboard.briefing.deck import pptx_bytes
from dashboard.briefing.html import chart_svg, slide_html
from dashboard.briefing.pdf import pdf_bytes
from dashboard.briefing.workbook import INDICATOR_COLUMNS, xlsx_bytes
from queries.briefing import Briefing, build_briefing
from queries.briefing.model import Chart, Series
from queries.db import make_engine
from queries.filters import Filters
from queries.indicators import INDICATOR_BY_KEY, INDICATOR_KEYS, headline
from queries.rehab import referrals_by_month
from tests.clock import TEST_AS_OF
from tests.query_support import raw_table

THRESHOLD = 5
START = TEST_AS_OF - dt.timedelta(days=27)


@pytest.fixture(scope="module")
def raw(demo_db_path: Path) -> dict[str, pd.DataFrame]:
    return {
        name: raw_table(demo_db_path, name)
        for name in ("incidents", "forums", "rehab_referrals", "targets", "counties")
    }


def _small_county(raw: dict[str, pd.DataFrame]) -> str:
    """A county with 1 to 4 referrals in the period, found from the raw rows; one with a
    training target in the period if there is one, so that its deck has a target chart too."""
    referred = pd.to_datetime(raw["rehab_referrals"]["referred_on"]).dt.date
    in_period = raw["rehab_referrals"][(referred >= START) & (referred <= TEST_AS_OF)]
    counts = in_period["county_code"].value_counts()
    small = sorted(counts[(counts >= 1) & (counts < THRESHOLD)].index)
    assert small, "the demo plants small rehab counts; none found in the period"
    with_target = set(_training_targets(raw)["county_code"])
    return str(sorted(small, key=lambda code: code not in with_target)[0])


def _training_targets(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The people-trained targets whose period overlaps the briefing's."""
    targets = raw["targets"][raw["targets"]["indicator"] == "people_trained"]
    starts, ends = targets["period_start"].dt.date, targets["period_end"].dt.date
    return targets[(starts <= TEST_AS_OF) & (ends >= START)]


SELECTIONS = ("national", "small_county")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine_url(request, demo_db_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{demo_db_path}"
    return request.getfixturevalue("pg_demo_twin")


@pytest.fixture(scope="module", params=SELECTIONS)
def case(request, engine_url: str, raw) -> dict:
    """One selection's filters, model and the three files, built once per engine."""
    counties = () if request.param == "national" else (_small_county(raw),)
    filters = Filters(start=START, end=TEST_AS_OF, preset="custom", counties=counties)
    engine = make_engine(engine_url)
    model = build_briefing(engine, filters, THRESHOLD)
    return {
        "name": request.param,
        "engine": engine,
        "filters": filters,
        "model": model,
        "pptx": Presentation(io.BytesIO(pptx_bytes(model))),
        "xlsx": load_workbook(io.BytesIO(xlsx_bytes(model))),
        "pdf": PdfReader(io.BytesIO(pdf_bytes(model))),
    }


def _eat_dates(frame: pd.DataFrame, column: str) -> pd.Series:
    stamps = pd.to_datetime(frame[column], format="mixed")
    return (stamps + pd.Timedelta(hours=3)).dt.date


def _in(frame: pd.DataFrame, counties: tuple[str, ...]) -> pd.Series:
    return frame["county_code"].isin(counties) if counties else pd.Series(True, frame.index)


def _whole_weeks(days: pd.Series) -> list[float]:
    """Counts per Monday-start week wholly inside the period, from a series of EAT dates."""
    first_monday = START + dt.timedelta(days=(7 - START.weekday()) % 7)
    weeks = []
    monday = first_monday
    while monday + dt.timedelta(days=6) <= TEST_AS_OF:
        weeks.append(float(((days >= monday) & (days <= monday + dt.timedelta(days=6))).sum()))
        monday += dt.timedelta(days=7)
    return weeks


def _charts(presentation) -> dict[str, list[list[float | None]]]:
    """Every native chart of the deck: title -> each series' values."""
    found = {}
    for slide in presentation.slides:
        for shape in slide.shapes:
            if shape.has_chart:
                chart = shape.chart
                title = chart.chart_title.text_frame.text
                found[title] = [list(series.values) for series in chart.plots[0].series]
    return found


def test_one_slide_per_model_slide_and_the_expected_slides(case) -> None:
    model: Briefing = case["model"]
    keys = [slide.key for slide in model.slides]
    counties = list(case["filters"].counties)
    assert keys == [
        "headline",
        "incidents",
        "associations",
        "training",
        "rehabilitation",
        # One county is the whole briefing's subject: no slide of its own repeats it.
        *[f"county-{code}" for code in counties if len(counties) > 1],
        "definitions",
    ]
    assert len(case["pptx"].slides) == len(model.slides)
    assert len(case["pdf"].pages) == len(model.slides)
    for page in case["pdf"].pages:  # one 16:9 slide a page
        assert (float(page.mediabox.width), float(page.mediabox.height)) == (1440.0, 810.0)
    titles = [
        next(s.text_frame.text for s in slide.shapes if s.name == "Title")
        for slide in case["pptx"].slides
    ]
    assert titles == [slide.title for slide in model.slides]


def _nearest_5(count) -> float:
    """The documented rounding, worked out here: to the nearest 5, 0-2 down and 3-4 up."""
    return float(5 * math.floor(int(count) / 5 + 0.5))


def test_charts_are_native_and_their_values_equal_the_raw_rows(case, raw) -> None:
    counties = case["filters"].counties
    charts = _charts(case["pptx"])
    incidents = raw["incidents"][_in(raw["incidents"], counties)]
    assert charts["Incidents reported per week"] == [
        _whole_weeks(pd.Series(_eat_dates(incidents, "reported_at")))
    ]
    forums = raw["forums"][_in(raw["forums"], counties)]
    assert charts["Forums held per week"] == [_whole_weeks(forums["held_on"].dt.date)]
    # Rehab by month: the query layer's own suppressed frame (a hidden month is a gap), and
    # every shown month equals the raw count rounded to the nearest 5 (the privacy rule).
    monthly = referrals_by_month(case["engine"], case["filters"], THRESHOLD)
    expected = [
        None if hidden else float(value)
        for value, hidden in zip(monthly["referrals"], monthly["referrals_suppressed"], strict=True)
    ]
    if any(value is not None for value in expected):
        assert charts["Rehabilitation referrals by month"] == [expected]
    else:  # every month hidden: no empty chart; the slide says so in a line
        assert "Rehabilitation referrals by month" not in charts
        rehab = next(slide for slide in case["model"].slides if slide.key == "rehabilitation")
        assert "Referrals by month: Every month here is hidden under the privacy rule." in (
            rehab.notes
        )
    referrals = raw["rehab_referrals"][_in(raw["rehab_referrals"], counties)]
    referred = pd.to_datetime(referrals["referred_on"])
    for month, value in zip(monthly["month_start"], expected, strict=True):
        if value is not None:
            same_month = (
                (referred.dt.to_period("M") == pd.Timestamp(month).to_period("M"))
                & (referred.dt.date >= START)
                & (referred.dt.date <= TEST_AS_OF)
            )
            assert value == _nearest_5(same_month.sum())


def test_the_target_chart_equals_the_targets_table(case, raw) -> None:
    charts = _charts(case["pptx"])
    title = next((t for t in charts if t.startswith("People trained against target")), None)
    overlapping = _training_targets(raw)
    if case["filters"].county_codes is not None:
        overlapping = overlapping[overlapping["county_code"].isin(case["filters"].county_codes)]
    if overlapping.empty:
        # Some days the small county has no target in the period: then no target chart.
        assert title is None
        return
    model_chart = next(
        (c for s in case["model"].slides for c in s.charts if c.title == title), None
    )
    assert title is not None and model_chart is not None
    names = dict(zip(raw["counties"]["code"], raw["counties"]["name"], strict=True))
    # The chart's one target period: the one most counties share, then the one covering more
    # of the briefing's period (on a day early in July, the year just ended).
    periods = overlapping.groupby(["period_start", "period_end"]).size().reset_index(name="n")
    periods["overlap"] = [
        (min(end.date(), TEST_AS_OF) - max(start.date(), START)).days
        for start, end in zip(periods["period_start"], periods["period_end"], strict=True)
    ]
    chosen = periods.sort_values(["n", "overlap", "period_start"]).iloc[-1]
    same = overlapping[overlapping["period_start"] == chosen["period_start"]]
    by_name = {
        names[code]: float(target)
        for code, target in zip(same["county_code"], same["target"], strict=True)
    }
    assert charts[title][1] == [by_name[name] for name in model_chart.categories]


def _number_equal(cell: object, expected: float) -> bool:
    return isinstance(cell, int | float) and math.isclose(cell, expected, rel_tol=1e-14)


def test_the_indicators_sheet_holds_every_indicator_unrounded(case, raw) -> None:
    book = case["xlsx"]
    assert book.sheetnames[0] == "Indicators"
    rows = list(book["Indicators"].iter_rows(values_only=True))
    assert rows[0] == INDICATOR_COLUMNS
    assert [row[0] for row in rows[1:]] == list(INDICATOR_KEYS)
    frame = headline(case["engine"], case["filters"], THRESHOLD).set_index("indicator")
    for key, label, value, _comparison, change, unit in rows[1:]:
        expected = frame.loc[key]
        assert label == INDICATOR_BY_KEY[key].label and unit == INDICATOR_BY_KEY[key].unit
        if bool(expected["suppressed"]):
            assert value in ("<5", "suppressed")
            assert change is None
        elif pd.isna(expected["value"]):
            assert value is None
        else:
            assert _number_equal(value, float(expected["value"])), key
        if not pd.isna(expected["change"]) and not bool(expected["suppressed"]):
            assert _number_equal(change, float(expected["change"])), key
    # The count itself, from the raw rows.
    counties = case["filters"].counties
    incidents = raw["incidents"][_in(raw["incidents"], counties)]
    days = pd.Series(_eat_dates(incidents, "reported_at"))
    count = float(((days >= START) & (days <= TEST_AS_OF)).sum())
    by_key = {row[0]: row for row in rows[1:]}
    assert by_key["incidents_reported"][2] == count


def test_every_table_is_a_sheet_with_codes_as_text(case) -> None:
    book = case["xlsx"]
    tables = [t for s in case["model"].slides for t in s.tables]
    assert book.sheetnames == ["Indicators", *[t.name for t in tables], "About"]
    sheet = book["Incidents by county"]
    header = [c.value for c in sheet[1]]
    assert header[0] == "county_code"
    codes = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert codes and all(c.data_type == "s" and re.fullmatch(r"\d{3}", c.value) for c in codes)
    for table in tables:
        rows = list(book[table.name].iter_rows(min_row=2, values_only=True))
        assert len(rows) == len(table.rows)
        for got, want in zip(rows, table.rows, strict=True):
            assert [_same_cell(g, w) for g, w in zip(got, want, strict=True)] == [True] * len(want)


def _same_cell(got: object, want: object) -> bool:
    """Excel keeps 15 significant digits: a float comes back within 1e-14, anything else equal."""
    if isinstance(want, float) and not isinstance(want, bool):
        return isinstance(got, int | float) and math.isclose(got, want, rel_tol=1e-14)
    return got == want


def _pptx_text(presentation) -> str:
    parts = []
    for slide in presentation.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if shape.has_table:
                parts.extend(cell.text for row in shape.table.rows for cell in row.cells)
        parts.append(slide.notes_slide.notes_text_frame.text)
    return "\n".join(parts)


REHAB_COUNT_SHOWN = re.compile(r"Rehab referrals\s*\n\s*([0-9][0-9,]*)\b")


def test_no_hidden_rehab_figure_appears_in_any_export(case, raw) -> None:
    """The small county's referrals (1-4, from the raw rows) read '<5' and appear nowhere as a
    number: not as a figure, a chart value, a cell, or in the slides' text or the PDF's."""
    model: Briefing = case["model"]
    rehab = {f.key: f for s in model.slides for f in s.figures if f.key == "rehab_referrals"}
    counties = case["filters"].counties
    referrals = raw["rehab_referrals"][_in(raw["rehab_referrals"], counties)]
    referred = pd.to_datetime(referrals["referred_on"]).dt.date
    true_count = int(((referred >= START) & (referred <= TEST_AS_OF)).sum())
    if case["name"] == "small_county":
        assert 1 <= true_count < THRESHOLD
        assert rehab["rehab_referrals"].hidden and rehab["rehab_referrals"].text == "<5"
    # Chart values: no rehab chart holds a small count.
    for title, series in _charts(case["pptx"]).items():
        if "ehab" in title:
            assert not any(v is not None and 1 <= v < THRESHOLD for s in series for v in s)
    # Workbook: no rehab cell holds a small count, and hidden figures are text.
    for sheet in case["xlsx"].worksheets:
        header = [str(c.value) for c in sheet[1]]
        for row in sheet.iter_rows(min_row=2, values_only=True):
            if sheet.title == "Indicators":
                key, value = row[0], row[2]
                if (
                    INDICATOR_BY_KEY[key].stream == "rehab"
                    and INDICATOR_BY_KEY[key].kind == "count"
                ):
                    assert not (isinstance(value, int | float) and 1 <= value < THRESHOLD)
                continue
            for name, value in zip(header, row, strict=False):
                if "referral" in name:
                    assert not (isinstance(value, int | float) and 1 <= value < THRESHOLD)
    # Text: wherever "Rehab referrals" is followed by a number, it is not a small one; and a
    # hidden figure's true value is never written after its label.
    texts = [_pptx_text(case["pptx"]), "\n".join(p.extract_text() for p in case["pdf"].pages)]
    for shown in texts:
        for match in REHAB_COUNT_SHOWN.finditer(shown):
            number = int(match.group(1).replace(",", ""))
            assert not 1 <= number < THRESHOLD, match.group(0)
        if case["name"] == "small_county":
            assert f"Rehab referrals\n{true_count}\n" not in shown
            assert "<5" in shown
    # Sentences never describe a hidden figure.
    for slide in model.slides:
        for sentence in slide.sentences:
            if sentence.startswith("Rehab referrals") and rehab["rehab_referrals"].hidden:
                assert "not shown" in sentence and not re.search(r"\d", sentence.split(":")[1])


def test_the_model_is_the_same_on_both_engines(demo_db_path, pg_demo_twin) -> None:
    filters = Filters(start=START, end=TEST_AS_OF, preset="custom", counties=("001", "032"))
    now = dt.datetime(2026, 11, 28, 6, 0, tzinfo=dt.UTC)
    lite = build_briefing(make_engine(f"sqlite:///{demo_db_path}"), filters, THRESHOLD, now=now)
    pg = build_briefing(make_engine(pg_demo_twin), filters, THRESHOLD, now=now)
    assert _rounded(lite.to_dict()) == _rounded(pg.to_dict())


def _rounded(value: object) -> object:
    """Floats to 9 significant digits (SQLite and PostgreSQL sum floats in other orders)."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def test_the_model_survives_json(case) -> None:
    model: Briefing = case["model"]
    assert Briefing.from_json(model.to_json()) == model


def test_targets_of_chosen_indicators_are_the_full_frames_rows(demo_db_path) -> None:
    """The briefing asks only for training targets; they equal those rows of the full frame."""
    from queries.targets import target_achievement_by_county

    engine = make_engine(f"sqlite:///{demo_db_path}")
    filters = Filters(start=START, end=TEST_AS_OF, preset="custom")
    everything = target_achievement_by_county(engine, filters, THRESHOLD)
    keys = ("people_trained", "private_security_coverage_pct")
    chosen = target_achievement_by_county(engine, filters, THRESHOLD, keys)
    expected = everything[everything["indicator"].isin(keys)].reset_index(drop=True)
    assert len(chosen) > 0 and set(everything["indicator"]) > set(keys)
    pd.testing.assert_frame_equal(chosen, expected)


def _referral_counts(raw, start: dt.date, end: dt.date) -> pd.Series:
    referred = pd.to_datetime(raw["rehab_referrals"]["referred_on"]).dt.date
    rows = raw["rehab_referrals"][(referred >= start) & (referred <= end)]
    return rows["county_code"].value_counts()


def test_no_small_count_can_be_worked_out_between_the_county_slides_and_the_total(
    demo_db_path, raw
) -> None:
    """Two counties, one with 1-4 referrals in the comparison period only: the headline's
    total and change, and each county slide's value and change, must not let a reader subtract
    their way to the small count, in either period."""
    before_start, before_end = START - dt.timedelta(days=28), START - dt.timedelta(days=1)
    now, before = (
        _referral_counts(raw, START, TEST_AS_OF),
        _referral_counts(raw, before_start, before_end),
    )
    small_before = [
        c for c in before.index if 1 <= before[c] < THRESHOLD and now.get(c, 0) >= THRESHOLD
    ]
    large = [c for c in now.index if now[c] >= 15 and before.get(c, 0) >= 15]
    assert small_before and large, "the demo should have such counties"
    pair = (large[0], small_before[0])
    filters = Filters(start=START, end=TEST_AS_OF, preset="custom", counties=pair)
    model = build_briefing(make_engine(f"sqlite:///{demo_db_path}"), filters, THRESHOLD)

    def known(figure):
        current = figure.value
        previous = None if figure.change is None or current is None else current - figure.change
        return current, previous

    total = known(next(f for f in model.slides[0].figures if f.key == "rehab_referrals"))
    by_county = {
        slide.key.removeprefix("county-"): known(
            next(f for f in slide.figures if f.key == "rehab_referrals")
        )
        for slide in model.slides
        if slide.key.startswith("county-")
    }
    assert set(by_county) == set(pair), "two counties selected: a slide for each"
    # Shown counts are the true ones rounded to the nearest 5 (queries.privacy).
    truth = {c: (_nearest_5(now.get(c, 0)), _nearest_5(before.get(c, 0))) for c in pair}
    for period in (0, 1):
        for code, values in by_county.items():
            if values[period] is not None:
                assert values[period] == truth[code][period]
                assert not 1 <= values[period] < THRESHOLD
        unknown = [code for code, values in by_county.items() if values[period] is None]
        if total[period] is not None and len(unknown) == 1:
            worked_out = total[period] - sum(
                v[period] for c, v in by_county.items() if c not in unknown
            )
            assert not 1 <= worked_out < THRESHOLD, (period, unknown, worked_out)


def test_every_slide_of_a_demo_briefing_says_its_figures_are_synthetic(demo_db_path) -> None:
    """Any slide may be projected, or photographed, on its own: each one says so, in the page,
    the PowerPoint and the PDF; a briefing from a real database says nothing of the kind."""
    filters = Filters(start=START, end=TEST_AS_OF, preset="custom")
    engine = make_engine(f"sqlite:///{demo_db_path}")
    demo = build_briefing(engine, filters, THRESHOLD, is_demo=True)
    real = build_briefing(engine, filters, THRESHOLD, is_demo=False)
    mark = "SYNTHETIC DEMO DATA"
    assert len(demo.slides) >= 5

    def pages(model: Briefing) -> dict[str, list[str]]:
        deck = Presentation(io.BytesIO(pptx_bytes(model)))
        return {
            "html": [
                slide_html(model, slide, number)
                for number, slide in enumerate(model.slides, start=1)
            ],
            "pptx": [
                "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
                for slide in deck.slides
            ],
            "pdf": [page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes(model))).pages],
        }

    for kind, texts in pages(demo).items():
        assert len(texts) == len(demo.slides), kind
        missing = [number for number, text in enumerate(texts, start=1) if mark not in text]
        assert not missing, f"{kind}: slides {missing} do not say the data are synthetic"
    for kind, texts in pages(real).items():
        assert not any(mark.lower() in text.lower() for text in texts), kind


def test_what_a_slide_chart_leaves_out_is_said_under_it(case) -> None:
    """The weekly lines leave partial weeks out, so their points need not add up to the
    headline: the slide says so under the chart, as the PowerPoint does."""
    noted = [c for s in case["model"].slides for c in s.charts if c.note and c.series]
    assert any("partial weeks" in chart.note for chart in noted)
    for chart in noted:
        # Said whole, on one line or wrapped onto several.
        drawn = " ".join(box[4] for box in _svg_text_boxes(chart_svg(chart, 860, 320)))
        assert chart.note in drawn, chart.title
    printed = " ".join(" ".join(page.extract_text().split()) for page in case["pdf"].pages)
    for chart in noted:
        assert " ".join(chart.note.split()) in printed, chart.title


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        (dt.date(2027, 6, 5), dt.date(2027, 7, 2), "Jul 2026 – Jun 2027"),  # 26 days of the old
        (dt.date(2027, 6, 20), dt.date(2027, 7, 17), "Jul 2027 – Jun 2028"),  # 17 of the new
    ],
)
def test_a_briefing_across_a_year_end_shows_the_targets_of_the_year_it_mostly_covers(
    start: dt.date, end: dt.date, shown: str
) -> None:
    """Both years' targets overlap a period across 30 June, for every county: the chart sums one
    year, the one covering more of the briefing's days."""
    from queries.briefing.build import _training_targets

    years = [
        (dt.date(2026, 7, 1), dt.date(2027, 6, 30)),
        (dt.date(2027, 7, 1), dt.date(2028, 6, 30)),
    ]
    rows = [
        {
            "county_code": code,
            "county_name": name,
            "indicator": "people_trained",
            "period_start": year_start,
            "period_end": year_end,
            "actual_to": min(year_end, end),
            "period_elapsed_pct": 50.0,
            "actual": 10.0,
            "target": 100.0,
            "achieved_pct": 10.0,
            "actual_suppressed": False,
        }
        for year_start, year_end in years
        for code, name in (("001", "Mombasa"), ("032", "Nakuru"))
    ]
    filters = Filters(start=start, end=end)
    _sentences, chart, _table = _training_targets(pd.DataFrame(rows), filters, "Kenya", THRESHOLD)
    assert chart is not None and chart.title == f"People trained against target, {shown}"


def _svg_texts(svg: str) -> list[tuple[float, str]]:
    return [
        (float(y), text) for y, text in re.findall(r'<text[^>]* y="([\d.]+)"[^>]*>([^<]*)<', svg)
    ]


def test_a_one_county_target_chart_sits_under_its_title_and_labels_its_bars() -> None:
    """A county's briefing draws two bars: drawn over the chart's whole height they sat on an
    axis 500 px below them, 10,000 wide for a target of 5,518, with no values to read."""
    chart = Chart(
        "People trained against target, Jul 2026 – Jun 2027",
        "bar",
        ["Nakuru"],
        [Series("Trained so far", [2180.0]), Series("Target", [5518.0])],
        "people",
    )
    texts = _svg_texts(chart_svg(chart, 860, 640))
    ticks = [(y, text) for y, text in texts if re.fullmatch(r"[\d,]+", text)]
    labels = [text for _, text in ticks if text in ("2,180", "5,518")]
    assert sorted(labels) == ["2,180", "5,518"]
    axis = [(y, text) for y, text in ticks if text not in labels]
    assert axis[-1][1] == "6,000"  # the axis ends at a round number just above the target
    assert max(y for y, _ in axis) < 640 / 2  # the axis is under the bars, not the drawing


def _svg_text_boxes(svg: str) -> list[tuple[float, float, float, float, str]]:
    """Each text of a chart as (left, right, y, size, text), measured with the DejaVu font the
    slides use (Pillow, the PDF library's own dependency)."""
    from PIL import ImageFont

    boxes = []
    for attributes, text in re.findall(r"<text([^>]*)>([^<]*)<", svg):
        found = dict(re.findall(r'([\w-]+)="([^"]*)"', attributes))
        size = float(found["font-size"])
        bold = found.get("font-weight") == "700"
        font = ImageFont.truetype(
            f"/usr/share/fonts/truetype/dejavu/DejaVuSans{'-Bold' if bold else ''}.ttf", size
        )
        width = font.getlength(html.unescape(text))
        x = float(found["x"])
        anchor = found.get("text-anchor", "start")
        left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        boxes.append((left, left + width, float(found["y"]), size, html.unescape(text)))
    return boxes


@pytest.mark.parametrize("width", [860, 560], ids=["projector", "phone"])
@pytest.mark.parametrize("kind", ["line", "bar"])
def test_a_slide_chart_reads_from_across_a_room_and_no_label_runs_off_or_into_another(
    kind: str, width: int
) -> None:
    """Projected at 1920 px and read from 5 m: every text at least 24 px but the note under the
    chart (22 px) and, in the phone's narrower drawing, a long title (20 px); nothing leaves the
    drawing and no two texts on one line touch: a year of weeks labels only as many weeks as fit,
    the legend stacks and the value axis labels every other line where they would not fit."""
    if kind == "line":
        first = dt.date(2026, 1, 5)
        categories = [f"{first + dt.timedelta(weeks=w):%d %b}" for w in range(52)]
        series = [Series("Incidents reported per week", [float(1000 + 37 * w) for w in range(52)])]
        note = "Weeks start on Monday; partial weeks at either end are left out."
        title = "Incidents reported per week"
    else:
        categories = ["Elgeyo-Marakwet", "Tharaka-Nithi", "Nairobi City", "Lamu"]
        series = [
            Series("This period", [12500.0, 310.0, 9000.0, 4.0]),
            Series("Comparison period", [11000.0, 150.0, 9900.0, 12.0]),
        ]
        note = None
        title = "Largest meaningful changes, by county"
    chart = Chart(title, kind, categories, series, "incidents", note)
    boxes = _svg_text_boxes(chart_svg(chart, width, 400))
    note_words = set((note or "").split())
    for left, right, _y, size, text in boxes:
        if text == title:
            assert size >= (24 if width == 860 else 20), (text, size)
        elif set(text.split()) <= note_words and text:
            assert size >= 22, (text, size)
        else:
            assert size >= 24, (text, size)
        assert left >= 0 and right <= width + 0.5, (text, left, right)
    for (l1, r1, y1, _, t1), (l2, r2, y2, _, t2) in itertools.combinations(boxes, 2):
        if abs(y1 - y2) < 20:  # on one line
            assert r1 + 8 <= l2 or r2 + 8 <= l1, (t1, t2)
    if kind == "line":
        shown = [b for b in boxes if b[4] in categories]
        assert 3 <= len(shown) < 52
        # Drawn short (two charts on a slide), the value axis keeps its labels apart.
        for height in (220, 400):
            values = sorted(
                y
                for _left, _right, y, _size, text in _svg_text_boxes(
                    chart_svg(chart, width, height)
                )
                if re.fullmatch(r"[\d,]+", text)
            )
            assert len(values) >= (3 if height == 400 else 2)  # at least both ends
            assert all(b - a >= 24 * 1.2 for a, b in itertools.pairwise(values)), (height, values)
        # The note is said whole, wrapped if need be.
        said = " ".join(b[4] for b in boxes if b[4] and set(b[4].split()) <= note_words)
        assert said == note
    else:
        assert len([b for b in boxes if b[4] in categories]) == 4
        assert len([b for b in boxes if b[4] in ("This period", "Comparison period")]) == 2


def test_a_one_county_briefing_does_not_repeat_its_headline_by_county(case) -> None:
    """With one county selected, "no county's change was meaningful" read as a national
    statement, and a chart "by county" of one county repeated the headline."""
    incidents = next(slide for slide in case["model"].slides if slide.key == "incidents")
    text = " ".join(incidents.sentences)
    if len(case["filters"].counties) == 1:
        assert len(incidents.sentences) == 1, incidents.sentences
        assert [chart.kind for chart in incidents.charts] == ["line"]
    else:
        assert "county's change" in text or any(c.kind == "bar" for c in incidents.charts)
