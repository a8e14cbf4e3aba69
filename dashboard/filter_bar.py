"""The shared filter bar: URL -> Filters -> widgets -> Filters -> URL, on every page.

Each arrow is one function: `filters_from_query_params` reads a link, `_seed_widgets` puts
Filters into the widgets, `filters_from_choices` turns what the widgets hold back into Filters,
and `Filters.to_query_params` writes the link. The URL is the shareable form of the view.
Streamlit clears query parameters when the user moves between pages, so the last filters are
kept in session state and written back.
"""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
import streamlit as st

from queries.filters import (
    COMPARISONS,
    DEFAULT_PRESET,
    EARLIEST_DATE,
    PRESETS,
    PROGRAMME_LAUNCH,
    Filters,
    counties_or_own,
    filters_from_choices,
    filters_from_query_params,
    preset_period,
)

log = logging.getLogger(__name__)

_URL_KEY = "_filters_url"
_NOTES_KEY = "_filters_notes"
_LAST_RANGE_KEY = "_filters_last_range"


# Parameters a page owns (the Briefing's slide and snapshot): not filters, kept as they are.
PAGE_PARAMS = ("slide", "snapshot")


def _current_url_params() -> dict[str, str]:
    return {key: st.query_params[key] for key in st.query_params if key not in PAGE_PARAMS}


def _seed_widgets(filters: Filters) -> None:
    st.session_state["f_preset"] = filters.preset
    st.session_state["f_range"] = (filters.start, filters.end)
    st.session_state["f_compare"] = filters.comparison
    st.session_state["f_counties"] = list(filters.counties)
    st.session_state["f_wards"] = list(filters.wards)


def _sync_from_url(
    as_of: dt.date, counties: pd.DataFrame, wards: pd.DataFrame, scope: tuple[str, ...] | None
) -> None:
    """Read the URL when it says something new (a pasted link, a first visit)."""
    url_params = _current_url_params()
    last_written = st.session_state.get(_URL_KEY)
    if last_written is not None and (not url_params or url_params == last_written):
        return  # a page switch cleared the URL, or nothing changed: keep the widgets
    wards_by_county = wards.groupby("county_code")["ward_code"].apply(list).to_dict()
    filters, notes = filters_from_query_params(
        url_params, as_of, counties["county_code"], wards_by_county, scope
    )
    _seed_widgets(filters)
    # The notes describe this link; they go once the user changes the filters.
    st.session_state[_NOTES_KEY] = (filters.to_query_params(), notes)
    # %r quotes the values, so a newline in a link cannot start a forged log line; long values
    # are cut so that a link cannot fill the log.
    capped = {key: str(value)[:200] for key, value in url_params.items()}
    for note in notes:
        log.info("link parameter ignored: %r (%r)", note, capped)


def ward_labels(county_wards: pd.DataFrame) -> dict[str, str]:
    """Ward code -> a label unique within the county: the name, with its constituency where two
    wards share a name (Nakuru has two 'Biashara'). The multiselect keeps what it shows, so two
    equal labels would make the second ward impossible to choose."""
    names = county_wards["ward_name"].astype(str)
    shared = names.duplicated(keep=False)
    labels = names.where(~shared, names + " (" + county_wards["constituency"].astype(str) + ")")
    return dict(zip(county_wards["ward_code"], labels, strict=True))


def filter_bar(
    as_of: dt.date,
    counties: pd.DataFrame,
    wards: pd.DataFrame,
    scope: tuple[str, ...] | None = None,
) -> tuple[Filters, list[str]]:
    """Draw the filters in the sidebar and return the selection and any notes about the URL.

    Args:
        as_of: the data's as-of date: every preset's period ends on it, and the date picker
            offers nothing later.
        counties: every county (county_code, county_name).
        wards: every ward (county_code, ward_code, ward_name).
        scope: the user's permitted counties, or None for national access.

    Returns:
        The filters, and notes about values of the opened link that were ignored (until the
        user changes the filters).
    """
    _sync_from_url(as_of, counties, wards, scope)
    names = dict(zip(counties["county_code"], counties["county_name"], strict=True))
    options = [code for code in counties["county_code"] if scope is None or code in scope]
    st.session_state["f_counties"] = list(
        counties_or_own([c for c in st.session_state.get("f_counties", []) if c in options], scope)
    )
    # A coordinator of one county has nothing to choose here: the county is shown, fixed, and
    # its wards are offered at once.
    own_county_only = scope is not None and len(scope) == 1

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
        date_range = None
        if preset == "custom":
            picked = st.date_input(
                "From – to",
                key="f_range",
                min_value=EARLIEST_DATE,
                max_value=as_of,
                format="DD/MM/YYYY",
            )
            # While the user is choosing, the picker holds one date (or none after clearing).
            date_range = _range_or_last(picked, as_of)
        # The dates are known only once every widget is read into Filters, below; these
        # placeholders keep their captions under the widgets they describe.
        period_caption = st.empty()
        comparison = st.radio(
            "Compare with",
            list(COMPARISONS),
            format_func=COMPARISONS.get,
            key="f_compare",
            horizontal=False,
        )
        comparison_caption = st.empty()
        chosen = st.multiselect(
            "Counties",
            options,
            format_func=lambda c: f"{names[c]} ({c})",
            key="f_counties",
            placeholder="All counties" if scope is None else "All counties you can see",
            disabled=own_county_only,
            help="Your access covers this county only." if own_county_only else None,
        )
        chosen_wards: list[str] = []
        if len(chosen) == 1:
            ward_names = ward_labels(wards[wards["county_code"] == chosen[0]])
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

        filters = filters_from_choices(
            preset, date_range, comparison, chosen, chosen_wards, as_of, scope
        )
        if preset != "custom":
            period_caption.caption(f"{filters.start:%d %b %Y} – {filters.end:%d %b %Y}")
            # The picker is not drawn in this run, so it may be set: switching to a custom
            # range then starts from this preset's dates.
            st.session_state["f_range"] = (filters.start, filters.end)
        compared = filters.comparison_filters()
        comparison_caption.caption(
            f"Comparison: {compared.start:%d %b %Y} – {compared.end:%d %b %Y}"
        )
        if filters.start < PROGRAMME_LAUNCH:
            st.caption(
                "The programme launched on 8 June 2025; earlier dates show reports from "
                "before launch."
            )

    params = filters.to_query_params()
    if _current_url_params() != params:
        kept = {key: st.query_params[key] for key in PAGE_PARAMS if key in st.query_params}
        st.query_params.from_dict({**params, **kept})
    st.session_state[_URL_KEY] = params
    st.session_state[_LAST_RANGE_KEY] = (filters.start, filters.end)
    notes_for, notes = st.session_state.get(_NOTES_KEY, ({}, []))
    return filters, notes if notes_for == params else []


def _range_or_last(picked: tuple | list, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The custom range the picker holds: both dates, one date as a one-day range, or (after
    clearing) the last period shown, else the default preset's."""
    if len(picked) >= 2:
        return picked[0], picked[1]
    if len(picked) == 1:
        return picked[0], picked[0]
    return st.session_state.get(_LAST_RANGE_KEY) or preset_period(DEFAULT_PRESET, as_of)
