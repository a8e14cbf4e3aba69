"""Residents' Associations: registration, monthly reporting, forums and settlement types."""

from __future__ import annotations

import streamlit as st

from dashboard import components, data
from dashboard.charts import associations as charts
from dashboard.context import current
from dashboard.pages import ASSOCIATIONS
from queries.associations import (
    forums_by_county,
    forums_by_month_and_type,
    months_starting_in,
    ras_by_settlement_type,
    reporting_by_county_month,
)
from queries.filters import latest_due_month
from queries.indicators import headline

context = current()
url, filters, period = context.url, context.filters, context.period_label()
components.page_header("Residents' Associations", context)
cards = data.load(headline, url, filters, threshold=context.threshold, streams=("ras",))
components.headline_cards(cards, ASSOCIATIONS.cards, context)

st.subheader("Monthly reporting")
cells = data.load(reporting_by_county_month, url, filters)
# The cards above then show the latest month due instead: say so, or the two read as a
# contradiction.
cards_month = (
    f" The cards above show {latest_due_month(context.as_of_date):%B %Y}, the latest month due."
)
if not months_starting_in(filters.start, filters.end):
    st.info(
        "Reporting rates by county are counted per month, and no month starts in the selected "
        f"period.{cards_month} Choose a period that includes the 1st of a month (e.g. last "
        "month) to see them by county.",
        icon=":material/calendar_month:",
    )
elif cells["expected_count"].sum() == 0:
    st.info(
        "No monthly reports were due yet for the months starting in the selected period: a "
        f"month's reports fall due on the 10th of the next month.{cards_month} Choose a period "
        "that includes an earlier month (e.g. last month) to see them by county.",
        icon=":material/calendar_month:",
    )
else:
    measure = (
        st.segmented_control(
            "Rate shown",
            list(charts.RATE_MEASURES),
            default="reporting_rate_pct",
            format_func=charts.RATE_MEASURES.get,
            key="ra_rate_measure",
        )
        or "reporting_rate_pct"
    )
    components.figure(
        charts.reporting_heatmap(cells, measure, period),
        charts.reporting_table(cells),
        context,
        "RA monthly reporting by county and month",
        height=charts.heatmap_height(cells),
        download=charts.drawn_cells(cells),
        narrow={"height": charts.heatmap_height(cells), **charts.heatmap_months_on_a_phone(cells)},
    )
    st.caption(
        "Every active or dormant RA owes a report for each month after it registered. Reporting "
        "rate = reports submitted / reports expected; on-time rate = reports submitted by the "
        "10th of the following month / reports expected. Blank cells: no report was expected. "
        + charts.undrawn_note(cells)
    )

st.subheader("Forums")
monthly = data.load(forums_by_month_and_type, url, filters)
components.figure(
    charts.forums_by_month_figure(monthly, period),
    charts.forums_by_month_table(monthly),
    context,
    "Forums held per month by type",
    height=520,
    narrow={"height": 520, **charts.forum_months_on_a_phone(monthly)},
)
by_county = data.load(forums_by_county, url, filters)
if by_county["forums_held"].sum() == 0:
    st.info("No forums were held in the selected counties and period.")
else:
    height = charts.county_bars_height(by_county)
    joint_column, attendance_column = st.columns(2)
    with joint_column:
        components.figure(
            charts.joint_forums_figure(by_county, period),
            charts.forums_by_county_table(by_county),
            context,
            "Forums by county",
            height=height,
            download=by_county,
        )
    with attendance_column:
        components.figure(
            charts.attendance_figure(by_county, period),
            charts.forums_by_county_table(by_county),
            context,
            "Forum attendance by county",
            height=height,
            download=by_county,
        )
    idle = int((by_county["forums_held"] == 0).sum())
    st.caption(
        "A joint forum has police present together with NGAO or private security."
        + (
            f" {idle} selected counties held no forum in the period and are not drawn."
            if idle
            else ""
        )
    )

st.subheader("Settlement types")
by_type = data.load(ras_by_settlement_type, url, filters)
components.figure(
    charts.settlement_figure(by_type, period),
    charts.settlement_table(by_type),
    context,
    "RAs by settlement type",
    height=620,
    download=by_type,
    narrow=(charts.settlement_figure(by_type, period, columns=1), 1100),
)
st.caption(
    "RAs and their member households are placed by the RA's own settlement type; forums by the "
    "type of the RA that held them ('No RA linked': forums recorded without an RA). 'Other "
    "(unknown)' collects values outside the data contract."
)
