"""Figures and tables kept by the content of what they are drawn from (`data.drawing`): equal
content draws once, other content draws again, nothing handed out can change what is kept, and
a warm rerun of a page sends the very charts it sent before without drawing them again."""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle

import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.utils import PlotlyJSONEncoder

from dashboard import components, data, theme
from dashboard.charts import common
from dashboard.charts import incidents as charts
from dashboard.pages import INCIDENTS
from tests.app_support import page_fixture

page = page_fixture(INCIDENTS.view)


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "county_code": ["001", "032", "047"],
            "incidents": [12, 0, 7],
            "rate": [1.5, None, 0.25],
            "week_start": pd.to_datetime(["2026-11-02", "2026-11-09", "2026-11-16"]),
        }
    )


def test_equal_content_has_one_fingerprint_whatever_object_holds_it():
    assert data.fingerprint(_frame()) == data.fingerprint(_frame())
    assert data.fingerprint((_frame(), "Nakuru", 5)) == data.fingerprint((_frame(), "Nakuru", 5))
    assert data.fingerprint(dt.date(2026, 11, 28)) == data.fingerprint(dt.date(2026, 11, 28))


def test_equal_content_held_differently_has_one_fingerprint():
    """A slice of a longer query result pickles with all of its Arrow buffer; the same rows
    made afresh do not. Same content, so the same fingerprint."""
    longer = _frame().assign(county=pd.array(["Mombasa", "Nakuru", "Nairobi"], dtype="str"))
    longer = pd.concat([longer, longer.assign(county="Lamu")], ignore_index=True)
    sliced = longer.iloc[:3]
    afresh = _frame().assign(county=pd.array(["Mombasa", "Nakuru", "Nairobi"], dtype="str"))
    assert pickle.dumps(sliced) != pickle.dumps(afresh)
    assert data.fingerprint(sliced) == data.fingerprint(afresh)
    assert data.fingerprint(pickle.loads(pickle.dumps(sliced))) == data.fingerprint(afresh)


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f.assign(incidents=[12, 1, 7]),  # one cell
        lambda f: f.rename(columns={"incidents": "referrals"}),  # a column's name
        lambda f: f.astype({"incidents": "float64"}),  # a dtype, same values
        lambda f: f.iloc[::-1],  # the order of rows
        lambda f: f.iloc[:2],  # a row fewer
        lambda f: f.set_axis([5, 6, 7]),  # the index
    ],
    ids=["cell", "column-name", "dtype", "row-order", "row-count", "index"],
)
def test_any_change_of_content_changes_the_fingerprint(change):
    assert data.fingerprint(change(_frame())) != data.fingerprint(_frame())


def test_values_of_other_types_but_equal_in_python_are_told_apart():
    assert data.fingerprint(1) != data.fingerprint(True)
    assert data.fingerprint(1) != data.fingerprint(1.0)
    assert data.fingerprint(dt.date(2026, 1, 1)) != data.fingerprint(dt.datetime(2026, 1, 1))
    assert data.fingerprint(("a",)) != data.fingerprint(["a"])


def test_what_it_cannot_vouch_for_is_refused():
    with pytest.raises(data.Unfingerprintable):
        data.fingerprint(object())
    with pytest.raises(data.Unfingerprintable):
        data.fingerprint(pd.DataFrame({"cells": [lambda: 1, lambda: 2]}))
    with pytest.raises(data.Unfingerprintable):
        data.fingerprint(pd.DataFrame({"cells": [[1, 2], [3]]}))


@pytest.fixture
def drawings(monkeypatch):
    kept = data._Recent(size=3)
    monkeypatch.setattr(data, "_drawings", kept)
    return kept


def _counting_builder():
    calls = []

    @data.drawing
    def build(frame: pd.DataFrame, title: str, threshold: int = 5) -> pd.DataFrame:
        calls.append(title)
        return frame.assign(
            title=title, shown=frame["incidents"].where(frame["incidents"] >= threshold)
        )

    return build, calls


def test_a_builder_draws_once_for_equal_content_and_again_for_other_content(drawings):
    build, calls = _counting_builder()
    first = build(_frame(), "Kenya")
    again = build(_frame(), "Kenya")  # another frame object, the same content
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first, again)
    build(_frame().assign(incidents=[12, 3, 7]), "Kenya")
    build(_frame(), "Nakuru")
    build(_frame(), "Kenya", threshold=10)
    assert len(calls) == 4
    build(_frame(), "Kenya", 10)  # the same call, the threshold passed by position
    assert len(calls) == 5  # told apart from the keyword call: a miss, never a wrong figure
    # What was drawn from 3 counties' rows: 12 and 7 are at least 5 and kept, 0 is hidden.
    assert first["shown"].tolist()[0] == 12 and pd.isna(first["shown"].tolist()[1])


def test_a_frame_handed_out_and_changed_leaves_the_kept_one_as_drawn(drawings):
    build, calls = _counting_builder()
    handed = build(_frame(), "Kenya")
    handed["incidents"] = -1
    handed.loc[0, "title"] = "changed"
    again = build(_frame(), "Kenya")
    assert len(calls) == 1
    assert again["incidents"].tolist() == [12, 0, 7]
    assert again["title"].tolist() == ["Kenya"] * 3


def test_drawings_keep_the_most_recently_used_up_to_their_size(drawings):
    build, calls = _counting_builder()
    for title in ("a", "b", "c"):
        build(_frame(), title)
    build(_frame(), "a")  # used again: now the most recent
    build(_frame(), "d")  # past the size of 3: 'b', the least recently used, goes
    assert len(drawings) == 3
    build(_frame(), "a")
    build(_frame(), "c")
    assert calls == ["a", "b", "c", "d"]
    build(_frame(), "b")
    assert calls == ["a", "b", "c", "d", "b"]


def test_arguments_it_cannot_fingerprint_draw_every_time(drawings):
    calls = []

    @data.drawing
    def build(value):
        calls.append(value)
        return len(calls)

    marker = object()
    assert build(marker) == 1 and build(marker) == 2
    assert len(drawings) == 0


def test_clearing_the_caches_forgets_the_drawings(drawings):
    build, calls = _counting_builder()
    build(_frame(), "Kenya")
    data.clear()
    build(_frame(), "Kenya")
    assert len(calls) == 2


def test_the_sent_figure_is_the_figure_plotly_would_style_and_the_figure_is_left_as_it_is():
    mix = pd.DataFrame(
        {
            "category": ["theft", "assault", "other"],
            "count": [10, 5, 1],
            "share_pct": [62.5, 31.25, 6.25],
        }
    )
    fig = charts.mix_figure.uncached(mix, "category", "Incidents by category", "Kenya")
    before = fig.to_json()
    # The old way: Plotly styles (a copy of) the figure itself.
    styled = go.Figure(fig)
    styled.update_layout(
        template=theme.TEMPLATE_NAME, height=500, title_text="", title_subtitle_text=""
    )
    top = styled.layout.margin.t
    styled.update_layout(margin_t=40 if top is None else max(40, top - 70))
    sent = components._styled(fig, 500).to_dict()
    assert json.loads(json.dumps(sent, cls=PlotlyJSONEncoder)) == json.loads(styled.to_json())
    assert fig.to_json() == before
    assert fig.layout.title.text == "Incidents by category"


def test_figure_specs_are_checked_by_plotly_under_the_tests_and_not_in_the_app(monkeypatch):
    """Builders hand Plotly finished specs unvalidated (the app's speed); the suite turns
    Plotly's checks back on, so a misspelt property fails here instead of being dropped
    silently by the browser."""
    misspelt = [dict(type="bar", x=[1, 2], y=[3, 4], colour="red")]
    assert os.environ.get(common.VALIDATE_FIGURES_ENV) == "1"  # set by tests/conftest.py
    with pytest.raises(ValueError, match="colour"):
        common.plotly_figure(misspelt, {})
    with pytest.raises(ValueError, match="hieght"):
        common.plotly_figure([], {"hieght": 300})
    # Accepted by Plotly, which expands the shorthand; plotly.js would ignore it.
    with pytest.raises(ValueError, match=r"\.layout\.xaxis\.tickfont"):
        common.plotly_figure([], {"xaxis": {"tickfont_size": 9}})
    with pytest.raises(ValueError, match="not get what Plotly validates"):
        common.plotly_figure([], {"annotations": [dict(text="a", font_size=15)]})
    # Validation draws a zoned column's wall-clock times; sent as it is, the browser would get
    # the offset and convert to its own zone. `values` drops the zone as validation does.
    zoned = pd.Series(pd.to_datetime(["2026-05-27 00:00"]).tz_localize("Africa/Nairobi"))
    with pytest.raises(ValueError, match=r"\.data\[0\]\.x"):
        common.plotly_figure([dict(type="bar", x=zoned, y=[1])], {})
    for column in (zoned, pd.Index(zoned)):
        sent = common.plotly_figure([dict(type="bar", x=common.values(column), y=[1])], {})
        assert json.loads(sent.to_json())["data"][0]["x"] == ["2026-05-27T00:00:00.000000"]

    monkeypatch.delenv(common.VALIDATE_FIGURES_ENV)
    fig = common.plotly_figure(
        [dict(type="bar", x=[1, 2], y=[3, 4], marker=dict(color="red"))],
        dict(height=300, title=dict(text="T")),
    )
    assert fig.layout.height == 300 and fig.layout.title.text == "T"
    assert list(fig.data[0].y) == [3, 4] and fig.data[0].marker.color == "red"
    assert fig.layout.template.layout.font.size == 18  # the house template, not Plotly's


def _chart_specs(at) -> list[str]:
    return [element.proto.spec for element in at.get("plotly_chart")]


def test_a_warm_rerun_sends_the_same_charts_without_drawing_them_again(page, monkeypatch):
    at = page({"period": "last_month"})
    assert not at.exception
    first = _chart_specs(at)
    assert len(first) >= 8
    drawn = []
    put = data._drawings.put
    monkeypatch.setattr(
        data._drawings, "put", lambda key, figure: (drawn.append(key), put(key, figure))
    )
    at.run()
    assert not at.exception
    assert drawn == []
    assert _chart_specs(at) == first
    # Each chart's title went to the page as text and its figure still holds it.
    assert all(json.loads(spec)["layout"]["title"]["text"] == "" for spec in first)
    at.selectbox(key="f_preset").set_value("last_7_days").run()
    assert not at.exception
    assert drawn, "a new period draws its figures"
    assert _chart_specs(at) != first
