"""Incidents: how many, what, through which channel, how fast they are handled, and where."""

from __future__ import annotations

import streamlit as st

from dashboard import components, data, formatting, maps
from dashboard.charts import incidents as charts
from dashboard.context import current
from dashboard.pages import INCIDENTS
from queries import incidents as q
from queries.indicators import headline
from queries.significance import REPORTING_GAP_MIN_PREVIOUS

TOP_WARDS = 10

context = current()
filters = context.filters
components.page_header("Incidents", context)
area, period = context.selection_label(), context.period_label()
subtitle = f"{area} · {period}"
comparison = filters.comparison_filters()
compared = f"{comparison.start:%d %b %Y} – {comparison.end:%d %b %Y}"


def load(function, **kwargs):
    return data.load(function, context.url, filters, **kwargs)


cards = data.load(
    headline, context.url, filters, threshold=context.threshold, streams=("incidents",)
)
components.headline_cards(cards, INCIDENTS.cards, context, per_row=3)

st.subheader("Trend and mix")
weekly = load(q.incidents_by_week_and_category)
fig = charts.weekly_by_category_figure(weekly, subtitle)
components.figure(
    fig,
    weekly,
    context,
    "Incidents per week by category",
    height=fig.layout.height,
    narrow=charts.WEEKLY_BY_CATEGORY_ON_A_PHONE,
)
left, right = st.columns(2)
with left:
    mix = load(q.incidents_by_category)
    fig = charts.mix_figure(mix, "category", "Incidents by category", subtitle)
    components.figure(fig, mix, context, "Incidents by category", height=fig.layout.height)
with right:
    mix = load(q.incidents_by_channel)
    fig = charts.mix_figure(mix, "channel", "Incidents by reporting channel", subtitle)
    components.figure(fig, mix, context, "Incidents by channel", height=fig.layout.height)
st.caption("Values outside the data contract's list (e.g. a misspelt category) count as 'Other'.")

st.subheader("Response")
response = load(q.response_hours_by_county)
fig = charts.response_hours_figure(response, subtitle)
stacked = charts.response_hours_figure(response, subtitle, stacked=True)
components.figure(
    fig,
    response,
    context,
    "Median response hours by county",
    height=fig.layout.height,
    narrow=(stacked, stacked.layout.height),
)
open_age = load(q.open_incidents_by_age)
age_subtitle = f"{area} · status as stored now, ages at {filters.end:%d %b %Y} (EAT)"
components.figure(
    charts.open_by_age_figure(open_age, age_subtitle),
    open_age,
    context,
    "Open incidents by age",
    narrow=(charts.open_by_age_figure(open_age, age_subtitle, across=True), 440),
)
stale = charts.stale_open_note(open_age)
if stale:
    st.caption(stale)

st.subheader("Wards")
wards = load(q.incident_counts_by_ward)  # both rankings from one read of the wards
left, right = st.columns(2)
with left:
    top = q.most_incidents(wards, TOP_WARDS)
    fig = charts.top_wards_figure(top, subtitle)
    components.figure(fig, top, context, "Top wards by incidents", height=fig.layout.height)
with right:
    rising = q.largest_increases(wards, TOP_WARDS)
    empty, wards_left_out = charts.ward_rise_left_out(wards)
    fig = charts.ward_increase_figure(rising, f"{area} · {period} against {compared}", empty)
    components.figure(fig, rising, context, "Top wards by increase", height=fig.layout.height)
st.caption("Incidents reported without a ward are left out of the ward rankings.")
if wards_left_out:
    st.caption(formatting.escape_markdown(wards_left_out))

st.subheader("CompStat: counts to date against a year earlier")
windows = q.compstat_windows(filters.end)
st.markdown(
    " · ".join(
        f"**{name}**: {windows[key][0]:%d %b %Y} – {windows[key][1]:%d %b %Y} "
        f"(a year earlier: {windows[key + '_last_year'][0]:%d %b %Y} – "
        f"{windows[key + '_last_year'][1]:%d %b %Y})"
        for key, name in q.COMPSTAT_WINDOWS.items()
    )
)
compstat = load(q.compstat_by_county)
compstat_shown = charts.compstat_places(compstat, len(filters.ward_codes or ()))
components.data_table(
    charts.compstat_table(compstat_shown), context, "CompStat by county", download=compstat
)
st.caption(
    "Change % is empty where the earlier count is 0, where the county (for the total, any "
    "of its counties) joined the programme after its year-earlier window began and by the "
    "window's end (the two counts would not be like for like), and where a county reported "
    "nothing after "
    f"{REPORTING_GAP_MIN_PREVIOUS} or more a year earlier. All windows end on the period's "
    "last day; dates are EAT. The week to date is set against the same weekdays 52 weeks "
    "earlier (the same dates fall on other weekdays); 28 days and the year to date against "
    "the same dates."
)
for note in [charts.compstat_test_note(compstat_shown), *charts.compstat_gap_notes(compstat_shown)]:
    if note:
        st.caption(formatting.escape_markdown(note))

st.subheader("Where incidents were reported")
status = load(q.incidents_by_coordinate_status)
codes = filters.county_codes
selected = (
    context.counties
    if codes is None
    else context.counties[context.counties["county_code"].isin(codes)]
)
# Counted in SQL per hexagon for the selection: the browser gets a few thousand hexagons at
# most, never millions of points.
hexagons = load(q.incident_density)
st.markdown(
    f"**Incident density, {area}** · {period} · each hexagon is shaded by the "
    "incidents reported in it: darker = more (six shades split at the sixths of the "
    "hexagons' counts; where many hexagons hold the same count, fewer shades show). Tap or "
    "hover a hexagon for its count."
)
# Sent twice, as the county map is: fitted to a wide screen, and to a phone's width.
for key, width_px, height_px in (
    ("wide-density-map", maps.VIEW_WIDTH_PX, maps.VIEW_HEIGHT_PX),
    ("narrow-density-map", maps.PHONE_WIDTH_PX, maps.PHONE_HEIGHT_PX),
):
    with st.container(key=key):
        st.pydeck_chart(
            maps.incident_density_deck(hexagons, selected, width_px=width_px, height_px=height_px),
            width="stretch",
            height=height_px,
        )
placed = charts.coordinate_table(status)
counts = dict(zip(placed["Incidents"], placed["count"]))
left_out = int(placed["count"].iloc[1:].sum())
st.caption(
    f"{counts['Drawn on the map']:,} incidents drawn. Left out: {left_out:,} — "
    f"{counts['No coordinates (not drawn)']:,} without GPS coordinates, "
    f"{counts['Coordinates outside Kenya (not drawn)']:,} with coordinates outside Kenya"
    + ". No basemap is loaded: the outline is Kenya's border; dots mark county centroids. "
    + context.source_note()
)
with st.expander("Table: incidents on the map"):
    components.data_table(placed, context, "Incidents on the map")
