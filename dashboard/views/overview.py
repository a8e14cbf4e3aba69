"""Overview: the national (or selected counties') picture for officials and briefings."""

from __future__ import annotations

import streamlit as st

from dashboard import components, data
from dashboard.charts import county_map, overview
from dashboard.charts.common import WEEKS_ON_A_PHONE
from dashboard.context import current
from dashboard.pages import OVERVIEW
from queries.briefing.sentences import comparison_label as against
from queries.indicators import county_league, headline
from queries.trends import STREAM_LABELS, comparison_streams_by_week, streams_by_week

STREAMS = list(STREAM_LABELS)

context = current()
url, filters, threshold = context.url, context.filters, context.threshold
components.page_header("Programme overview", context)
cards = data.load(headline, url, filters, threshold=threshold)
components.headline_cards(cards, OVERVIEW.cards, context)
components.suppression_note(context)

weekly = data.load(streams_by_week, url, filters, threshold=threshold)
# The comparison line is drawn only where the cards compare too (a valid comparison period).
earlier = (
    data.load(comparison_streams_by_week, url, filters, threshold=threshold)
    if components.comparison_note(cards) is None
    else None
)
st.subheader("Weekly activity")
for pair in (STREAMS[:2], STREAMS[2:]):
    for column, stream in zip(st.columns(2), pair, strict=True):
        with column:
            components.figure(
                overview.stream_trend_figure(
                    weekly, stream, context.period_label(), earlier, context.comparison_label()
                ),
                overview.trend_table(weekly, stream, earlier),
                context,
                STREAM_LABELS[stream] + " per week",
                height=420,
                narrow={"height": 420, **WEEKS_ON_A_PHONE},
            )

league = data.load(county_league, url, filters, threshold=threshold)
st.subheader("Counties")
measure = (
    st.segmented_control(
        "Map measure",
        list(county_map.MAP_MEASURES),
        default="incidents",
        key="map_measure",
        format_func=lambda m: county_map.MAP_MEASURES[m][0],
    )
    or "incidents"
)
components.county_map(county_map.map_frame(league, context.counties, measure), context, measure)
# A phone shows the table as text, which does not sort: the hint is for wider screens.
st.markdown(
    '**County league table** <span class="sort-hint">(click a column to sort)</span>',
    unsafe_allow_html=True,
)
components.data_table(
    overview.league_table(league, threshold), context, "County league table", download=league
)
compared = against(filters.comparison, filters.days)
st.caption(
    " ".join(
        [
            f"Change test: a change in incidents against {compared} is "
            "'meaningful' when it would happen by chance less than 3 times in 1,000 (Poisson "
            "test, |z| ≥ 3); 'not compared' where the county has no valid comparison period.",
            *overview.reporting_gap_notes(league),
        ]
    )
)
