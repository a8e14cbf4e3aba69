"""Rehabilitation: who is referred, by whom and for what, how far they get, and centres' use."""

from __future__ import annotations

import streamlit as st

from dashboard import components, data
from dashboard.charts import rehab as charts
from dashboard.context import current
from dashboard.pages import REHABILITATION
from queries import rehab
from queries.indicators import rehab_headline

BREAKDOWNS = {
    "source": rehab.referrals_by_source,
    "substance": rehab.referrals_by_substance,
    "sex": rehab.referrals_by_sex,
    "age_band": rehab.referrals_by_age_band,
}
PAIRS = ((("source", "substance"), 540), (("sex", "age_band"), 440))
MIN_MONTHS = 3  # a month chart of one or two (partial) months says nothing

context = current()
url, filters, threshold = context.url, context.filters, context.threshold
period = context.period_label()
end_label = f"{filters.end:%d %b %Y}"
components.page_header("Rehabilitation referrals", context)

cards = data.load(rehab_headline, url, filters, threshold=threshold)
components.headline_cards(cards, REHABILITATION.cards, context)
components.suppression_note(context)

if cards.set_index("indicator").at["rehab_referrals", "value"] == 0:
    st.info("No referrals were made in this selection and period.", icon=":material/info:")
else:
    st.subheader("Who is referred, by whom, and for what")
    for pair, height in PAIRS:
        for column, dimension in zip(st.columns(2), pair, strict=True):
            frame = data.load(BREAKDOWNS[dimension], url, filters, threshold=threshold)
            with column:
                components.figure(
                    charts.category_figure(frame, dimension, threshold, period),
                    charts.category_table(frame, dimension, threshold),
                    context,
                    charts.DIMENSION_TITLES[dimension][0],
                    height=height,
                    download=frame,
                )

    months = data.load(rehab.referrals_by_month, url, filters, threshold=threshold)
    if len(months) >= MIN_MONTHS:
        components.figure(
            charts.month_figure(months, threshold, period),
            charts.month_table(months, threshold),
            context,
            "Referrals by month",
            height=440,
            download=months,
            narrow={"height": 440, **charts.months_of_referral_on_a_phone(months)},
        )
    else:
        st.caption(
            f"Referrals by month are shown for periods spanning {MIN_MONTHS} months or more."
        )

    st.subheader("From referral to treatment")
    stages = data.load(rehab.referrals_by_stage, url, filters, threshold=threshold)
    components.figure(
        charts.funnel_figure(stages, threshold, period),
        charts.funnel_table(stages, threshold),
        context,
        "Referral funnel",
        height=480,
        download=stages,
        narrow=(charts.funnel_figure(stages, threshold, period, narrow=True), 480),
    )
    st.caption(
        "Stages follow each referral's status today. Assessed includes those declined, admitted, "
        "completed or dropped out; admitted includes those who completed or dropped out."
    )
    medians = data.load(rehab.median_days_by_county, url, filters, threshold=threshold)
    components.figure(
        charts.median_days_figure(medians, period),
        charts.median_days_table(medians, threshold),
        context,
        "Median days to admission by county",
        height=charts.median_days_height(medians),
        download=medians,
    )
    hidden = charts.hidden_median_counties(medians)
    if hidden:
        st.caption(
            f"Not shown, too few admissions for the privacy rule ({len(hidden)}): "
            + ", ".join(hidden)
            + "."
        )

st.subheader("Centres: places and use")
kinds = data.load(rehab.centres_by_kind, url, filters, threshold=threshold)
admissions = data.load(rehab.current_admissions_by_county, url, filters, threshold=threshold)
if kinds["centres"].sum() > 0:
    components.figure(
        charts.centres_figure(kinds, end_label),
        charts.centres_table(kinds),
        context,
        "Centres by kind",
        height=380,
    )
if len(admissions):
    components.figure(
        charts.capacity_figure(admissions, threshold, end_label),
        charts.capacity_table(admissions, threshold),
        context,
        "People in treatment vs places by county",
        height=charts.capacity_height(admissions),
        download=admissions,
        narrow=(
            charts.capacity_figure(admissions, threshold, end_label, short=True),
            charts.capacity_height(admissions),
        ),
    )
    st.caption(
        "In treatment now: referrals whose status today is 'admitted' and who were admitted on "
        f"or before {end_label}, counted at their centre's county, whenever they were referred."
    )
else:
    st.info("No rehabilitation centre or admission in this selection.", icon=":material/info:")
