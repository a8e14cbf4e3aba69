"""County profile: one county's scorecard, wards and trends, for coordinators (often on a phone)."""

from __future__ import annotations

import streamlit as st

from dashboard import components, data
from dashboard.charts import overview, profile
from dashboard.charts.common import WEEKS_ON_A_PHONE
from dashboard.context import current
from dashboard.pages import COUNTY_PROFILE
from queries.indicators import (
    county_alone,
    county_own_values,
    county_values_of,
    headline,
    indicators_frame,
    national_standing,
    nationwide,
    scorecard_of,
)
from queries.trends import STREAM_LABELS, comparison_streams_by_week, streams_by_week

context = current()
filters = context.filters
codes = filters.county_codes
if codes is None or len(codes) != 1:
    components.page_header("County profile", context)
    options = list(context.counties["county_code"]) if codes is None else list(codes)
    st.selectbox(
        "Choose a county",
        options,
        index=None,
        key="profile_county",
        format_func=context.county_name,
        placeholder="Choose the county to profile",
        on_change=lambda: st.session_state.update(
            f_counties=[st.session_state["profile_county"]], f_wards=[]
        ),
    )
    st.stop()

code = codes[0]
name = context.county_name(code)
components.page_header(f"{name} County profile", context)
url, threshold = context.url, context.threshold
cards = data.load(headline, url, filters, threshold=threshold)
components.headline_cards(cards, COUNTY_PROFILE.cards, context, per_row=4)
components.suppression_note(context)

st.subheader(f"{name} against Kenya")
# The national figures, ranks and unprotected values are read once per period for every county's
# scorecard: a change of county reads only the new county's rehab figures, which the cards
# above have read already unless wards or a scope narrow them.
alone = county_alone(filters)
scorecard = scorecard_of(
    data.load(national_standing, url, nationwide(filters), threshold=threshold),
    county_values_of(cards)
    if alone == filters
    else data.load(county_own_values, url, alone, threshold=threshold),
    code,
)
components.data_table(
    profile.scorecard_table(scorecard, name, threshold),
    context,
    f"{name} scorecard",
    download=profile.scorecard_download(scorecard, code),
)
st.caption(profile.RANK_NOTE)
if filters.ward_codes:
    st.caption("The scorecard compares the whole county; the ward choice applies below.")

st.subheader("Wards")
wards = data.load(indicators_frame, url, filters, threshold=threshold, grain="ward")
components.data_table(
    profile.ward_table(wards, threshold), context, f"{name} wards", download=wards
)

st.subheader("Weekly activity")
weekly = data.load(streams_by_week, url, filters, threshold=threshold)
earlier = (
    data.load(comparison_streams_by_week, url, filters, threshold=threshold)
    if components.comparison_note(cards) is None
    else None
)
for stream in STREAM_LABELS:
    components.figure(
        overview.stream_trend_figure(
            weekly, stream, context.period_label(), earlier, context.comparison_label()
        ),
        overview.trend_table(weekly, stream, earlier),
        context,
        f"{STREAM_LABELS[stream]} per week, {name}",
        height=380,
        narrow={"height": 380, **WEEKS_ON_A_PHONE},
    )
