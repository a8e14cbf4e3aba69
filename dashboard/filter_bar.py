"""The shared filter bar: URL -> Filters -> widgets -> Filters -> URL, on every page.

The URL is the shareable form of the view. Streamlit clears query parameters when the user
moves between pages, so the last filters are kept in session state and written back.
"""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
import streamlit as st

from queries.filters import (
    COMPARISONS,
    EARLIEST_DATE,
    PRESETS,
    PROGRAMME_LAUNCH,
    Filters,
    comparison_period,
    filters_from_query_params,
    preset_period,
)

log = logging.getLogger(__name__)

_URL_KEY = "_filters_url"
_NOTES_KEY = "_filters_notes"
_LAST_RANGE_KEY = "_filters_last_range"


def _current_url_params() -> dict[str, str]:
    return {key: st.query_params[key] for key in st.query_params}


def _seed_widgets(filters: Filters) -> None:
    st.session_state["f_preset"] = filters.preset
    st.session_state["f_range"] = (filters.start, filters.end)
    st.session_state["f_compare"] = filters.comparison
    st.session_state["f_counties"] = list(filters.counties)
    st.session_state["f_wards"] = list(filters.wards)


def _sync_from_url(
    today: dt.date, counties: pd.DataFrame, wards: pd.DataFrame, scope: tuple[str, ...] | None
) -> None:
    """Read the URL when it says something new (a pasted link, a first visit)."""
    url_params = _current_url_params()
    last_written = st.session_state.get(_URL_KEY)
    if last_written is not None and (not url_params or url_params == last_written):
        return  # a page switch cleared the URL, or nothing changed: keep the widgets
    wards_by_county = wards.groupby("county_code")["ward_code"].apply(list).to_dict()
    filters, notes = filters_from_query_params(
        url_params, today, counties["county_code"], wards_by_county, scope
    )
    _seed_widgets(filters)
    # The notes describe this link; they go once the user changes the filters.
    st.session_state[_NOTES_KEY] = (filters.to_query_params(), notes)
    for note in notes:
        log.info("link parameter ignored: %s (%s)", note, url_params)


def filter_bar(
    today: dt.date,
    counties: pd.DataFrame,
    wards: pd.DataFrame,
    scope: tuple[str, ...] | None = None,
) -> tuple[Filters, list[str]]:
    """Draw the filters in the sidebar and return the selection and any notes about the URL."""
    _sync_from_url(today, counties, wards, scope)
    names = dict(zip(counties["county_code"], counties["county_name"], strict=True))
    options = [code for code in counties["county_code"] if scope is None or code in scope]
    st.session_state["f_counties"] = [
        c for c in st.session_state.get("f_counties", []) if c in options
    ]

    with st.sidebar:
        st.markdown("### Filters")
        preset = st.selectbox(
            "Period",
            list(PRESETS),
            format_func=PRESETS.get,
            key="f_preset",
            help="Dates are Africa/Nairobi (EAT) calendar days; weeks start on Monday; the "
            "financial year runs 1 July – 30 June.",
        )
        if preset == "custom":
            picked = st.date_input(
                "From – to",
                key="f_range",
                min_value=EARLIEST_DATE,
                max_value=today,
                format="DD/MM/YYYY",
            )
            # While the user is choosing, the picker holds one date (or none after clearing).
            start, end = _range_or_last(picked, today)
        else:
            start, end = preset_period(preset, today)
            st.session_state["f_range"] = (start, end)
            st.caption(f"{start:%d %b %Y} – {end:%d %b %Y}")
        comparison = st.radio(
            "Compare with",
            list(COMPARISONS),
            format_func=COMPARISONS.get,
            key="f_compare",
            horizontal=False,
        )
        compare_start, compare_end = comparison_period(start, end, comparison)
        st.caption(f"Comparison: {compare_start:%d %b %Y} – {compare_end:%d %b %Y}")
        chosen = st.multiselect(
            "Counties",
            options,
            format_func=lambda c: f"{names[c]} ({c})",
            key="f_counties",
            placeholder="All counties" if scope is None else "All counties you can see",
        )
        chosen_wards: list[str] = []
        if len(chosen) == 1:
            county_wards = wards[wards["county_code"] == chosen[0]]
            ward_names = dict(
                zip(county_wards["ward_code"], county_wards["ward_name"], strict=True)
            )
            st.session_state["f_wards"] = [
                w for w in st.session_state.get("f_wards", []) if w in ward_names
            ]
            chosen_wards = st.multiselect(
                "Wards",
                list(ward_names),
                format_func=ward_names.get,
                key="f_wards",
                placeholder=f"All wards of {names[chosen[0]]}",
            )
        else:
            st.session_state["f_wards"] = []
        if start < PROGRAMME_LAUNCH:
            st.caption(
                "The programme launched on 8 June 2025; earlier dates show reports from "
                "before launch."
            )

    filters = Filters(
        start=start,
        end=end,
        preset=preset,
        comparison=comparison,
        counties=tuple(chosen),
        wards=tuple(chosen_wards),
        scope=scope,
    )
    params = filters.to_query_params()
    if _current_url_params() != params:
        st.query_params.from_dict(params)
    st.session_state[_URL_KEY] = params
    st.session_state[_LAST_RANGE_KEY] = (start, end)
    notes_for, notes = st.session_state.get(_NOTES_KEY, ({}, []))
    return filters, notes if notes_for == params else []


def _range_or_last(picked: tuple | list, today: dt.date) -> tuple[dt.date, dt.date]:
    if len(picked) >= 2:
        return picked[0], picked[1]
    if len(picked) == 1:
        return picked[0], picked[0]
    return st.session_state.get(_LAST_RANGE_KEY) or preset_period("last_28_days", today)
