"""Training: who was trained and on what, private-security coverage, and progress to targets."""

from __future__ import annotations

import streamlit as st

from dashboard import components, data
from dashboard.charts import training as charts
from dashboard.context import current
from dashboard.pages import TRAINING
from queries.indicators import INDICATOR_BY_KEY, INDICATOR_KEYS, headline
from queries.targets import (
    indicators_with_targets,
    target_achievement_by_county,
    target_period_shown,
)
from queries.training import (
    people_trained_by_audience,
    people_trained_by_topic,
    private_security_coverage_by_county,
)

context = current()
url, filters, period = context.url, context.filters, context.period_label()
components.page_header("Training", context)
cards = data.load(headline, url, filters, threshold=context.threshold, streams=("training",))
# Three to a row: the coverage card's long label is cut off in a row of five.
components.headline_cards(cards, TRAINING.cards, context, per_row=3)

st.subheader("Who was trained, and on what")
audience = data.load(people_trained_by_audience, url, filters)
topic = data.load(people_trained_by_topic, url, filters)
if audience["people_trained"].sum() == 0:
    st.info("No training sessions were held in the selected counties and period.")
else:
    for column, frame, dimension in zip(
        st.columns(2), (audience, topic), ("audience", "topic"), strict=True
    ):
        with column:
            components.figure(
                charts.trained_by_figure(frame, dimension, period),
                charts.trained_by_table(frame, dimension),
                context,
                f"People trained by {dimension}",
                height=500,
                download=frame,
            )
    st.caption(
        "People trained = summed participants of the sessions held, so a person trained twice "
        "counts twice. 'Other (unknown)' collects values outside the data contract."
    )

st.subheader("Private security officers")
coverage = data.load(private_security_coverage_by_county, url, filters)
if filters.ward_codes:
    st.info(
        "Security firms are registered per county, not per ward, so coverage is not shown for "
        "a ward selection. Clear the ward filter to see it.",
        icon=":material/info:",
    )
elif (
    coverage["officers_trained_count"].sum() == 0
    and coverage["officers_registered_count"].fillna(0).sum() == 0
):
    st.info("No private security officers were trained or registered at partner firms here.")
else:
    overall = cards.set_index("indicator").at["private_security_coverage_pct", "value"]
    components.figure(
        charts.coverage_figure(coverage, filters.end, overall),
        charts.coverage_table(coverage),
        context,
        "Private security officers trained",
        height=charts.coverage_height(coverage),
        download=coverage,
        narrow=(
            charts.coverage_figure(coverage, filters.end, overall, short=True),
            charts.coverage_height(coverage),
        ),
    )
    st.caption(
        "Coverage = participants of private-security trainings held from the programme launch "
        f"(8 Jun 2025) to {filters.end:%d %b %Y} / officers registered at firms that had joined "
        "the programme by then. Participants are counted per session, so coverage can pass "
        f"100% when officers attend several sessions; bars stop at "
        f"{charts.COVERAGE_AXIS_CAP:.0f}% (the label gives the true value). Counties with "
        "officers trained but no partner firm have no coverage."
    )

st.subheader("Progress against targets")
present = set(data.load(indicators_with_targets, url, filters))
if not present:
    st.info("No targets are set for the selected counties for periods overlapping this period.")
else:
    keys = [k for k in INDICATOR_KEYS if k in present] + sorted(present - set(INDICATOR_KEYS))
    indicator = st.selectbox(
        "Indicator",
        keys,
        index=keys.index("people_trained") if "people_trained" in keys else 0,
        format_func=lambda k: INDICATOR_BY_KEY[k].label if k in INDICATOR_BY_KEY else k,
        key="target_indicator",
    )
    # Only the chosen indicator's actuals: each stream's would cost a county league.
    targets = data.load(
        target_achievement_by_county,
        url,
        filters,
        threshold=context.threshold,
        indicators=(indicator,),
    )
    periods = charts.target_periods(targets, indicator)
    # First shown: the period the briefing shows too (most counties, most of the selected days).
    start, end = target_period_shown(targets, filters)
    if len(periods) > 1:
        start, end = st.selectbox(
            "Target period",
            periods,
            index=periods.index((start, end)),
            format_func=lambda p: charts.period_text(*p),
            key="target_period",
        )
    rows = charts.target_rows(targets, indicator, start)
    components.figure(
        charts.target_figure(rows),
        charts.targets_table(rows, context.threshold),
        context,
        f"{charts.period_text(start, end)} targets: "
        + (INDICATOR_BY_KEY[indicator].label if indicator in INDICATOR_BY_KEY else indicator),
        height=charts.target_height(rows),
        download=rows,
        narrow=(charts.target_figure(rows, short=True), charts.target_height(rows)),
    )
    st.caption(charts.target_caption(rows, context.threshold))
    if filters.ward_codes:
        st.caption("Targets are set per county: the comparison covers the whole county.")
    if INDICATOR_BY_KEY.get(indicator) and INDICATOR_BY_KEY[indicator].stream == "rehab":
        components.suppression_note(context)
    with st.expander("Every target of this indicator overlapping the period"):
        components.data_table(
            charts.targets_table(targets, context.threshold),
            context,
            "All targets",
            download=targets,
        )
