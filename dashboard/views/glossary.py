"""Glossary: what every indicator means, where its SQL lives, and how its change is tested.

One block per indicator, grouped by stream, so that it reads on a phone as well as on a
projector (no wide table).
"""

from __future__ import annotations

import streamlit as st

from dashboard import components
from dashboard.context import current
from queries.filters import PROGRAMME_LAUNCH
from queries.indicators import (
    INDICATOR_BY_KEY,
    INDICATORS,
    Indicator,
    significance_test,
    source_tables,
)
from queries.privacy import ROUNDING_NOTE, suppressed_label
from queries.significance import POISSON_TEST, REPORTING_GAP_MIN_PREVIOUS, SHARE_TEST

STREAM_TITLES = {
    "incidents": "Incidents",
    "ras": "Residents' Associations",
    "training": "Training",
    "rehab": "Rehabilitation",
}


def like_for_like_text(indicator: Indicator) -> str:
    """Whether the indicator is compared with another period, and if not, what is."""
    if indicator.like_for_like:
        return "Yes: compared with the comparison period."
    text = (
        "No: shown as it stands now and never compared with another period (recent cases have "
        "had less time to reach this outcome)."
    )
    instead = INDICATOR_BY_KEY.get(indicator.compare_instead or "")
    if instead is not None:
        text += f" The change is carried by **{instead.label}** (`{instead.key}`)."
    return text


def significance_text(indicator: Indicator) -> str:
    """The test that marks a change 'meaningful', in words."""
    test = significance_test(indicator)
    if test == "poisson":
        return f"Poisson test on the count `{indicator.poisson_count}`. {POISSON_TEST}"
    if test == "two_proportion":
        hits, cases = indicator.share_counts or ("", "")
        return f"Two-proportion test on `{hits}` of `{cases}`. {SHARE_TEST}"
    return "None: a change is never marked meaningful."


def indicator_block(indicator: Indicator) -> str:
    """One indicator's entry as markdown, one fact a line."""
    tables = ", ".join(f"`{t}`" for t in source_tables(indicator.key))
    return "  \n".join(
        [
            f"**Key:** `{indicator.key}`",
            f"**Definition:** {indicator.definition}",
            f"**Unit:** {indicator.unit}",
            f"**Tables:** {tables}",
            f"**SQL:** `{indicator.source}`",
            f"**Like-for-like:** {like_for_like_text(indicator)}",
            f"**Significance test:** {significance_text(indicator)}",
        ]
    )


context = current()
st.title("Glossary")
as_of = f"{context.as_of:%d %b %Y, %H:%M} EAT" if context.as_of else "no reports yet"
st.markdown(f"Data as of **{as_of}** (the definitions hold for any period and selection)")
components.demo_banner(context)
st.markdown(
    "What each figure on the dashboard means, the contract tables it is computed from, and how "
    "its change is judged. Open an indicator for its details."
)

st.subheader("When a change is shown")
st.markdown(
    "A change is shown only against a period that is like for like, and the page says why "
    "when it is not:\n"
    f"- the comparison period must begin on or after the launch ({PROGRAMME_LAUNCH:%d %b %Y}) "
    "and, for one county, on or after the day it joined the programme;\n"
    "- for several counties, none of them may have joined between the start of the comparison "
    "period and the end of this one: a county reports far more once it is in the programme, "
    "so the total would rise with the roll-out;\n"
    f"- a place with no incident at all after {REPORTING_GAP_MIN_PREVIOUS} or more in the "
    "comparison period has most likely stopped reporting, and is not compared;\n"
    '- figures "as they stand now" are never compared (see each indicator\'s entry).\n\n'
    "A change is called meaningful only when its test says so (each indicator's entry names "
    "the test); every other tested change is within what chance gives at its counts, and a "
    "card says so: '· normal variation'. A card whose indicator has no test says '· no test': "
    "its change, however large, is not judged either way."
)

st.subheader("Privacy rule")
label = suppressed_label(context.threshold)
st.markdown(
    f"Rehabilitation counts from 1 to {context.threshold - 1} are shown as '{label}', and a "
    "larger count that would let a reader work such a count out of a total, or a percentage or "
    f"median resting on one, as 'suppressed'. {ROUNDING_NOTE} The rule holds on screen, in "
    "charts and in every download, and no change is shown where either period is hidden."
)

for stream, title in STREAM_TITLES.items():
    st.subheader(title)
    for indicator in (i for i in INDICATORS if i.stream == stream):
        with st.expander(f"{indicator.label} · {indicator.unit}"):
            st.markdown(indicator_block(indicator))

st.caption(
    "For the ministry's data team: the keys, tables and SQL above are the data contract's "
    "(docs/data-contract.md); the SQL of any indicator for a selection is printed by "
    "`python -m queries.indicators --sql KEY`."
)
