"""Data quality (administrators): rows that break the data contract, for the data team to fix."""

from __future__ import annotations

import streamlit as st

from dashboard import components, data
from dashboard.context import current
from queries.filters import today_eat
from queries.quality import (
    quality_checks,
    required_nulls,
    table_checks,
    timestamp_spellings,
    unknown_values,
)

context = current()
components.page_header("Data quality", context)
st.markdown(
    "Rows that do not follow the reporting data contract, over the selected period and counties. "
    "Charts count unknown values as *other*; nothing is changed in the database. Send this list to "
    "the ministry data team. The same checks, over whole tables, run from the command line: "
    "`python -m queries.check --url URL`."
)
checks = data.load(quality_checks, context.url, context.filters, threshold=context.threshold)
st.subheader("Checks")
components.data_table(
    checks.rename(columns={"check": "Check", "table_name": "Table", "row_count": "Rows"}),
    context,
    "Data quality checks",
)
st.subheader("Values outside the contract's lists")
unknown = data.load(unknown_values, context.url, context.filters, threshold=context.threshold)
if unknown.empty:
    st.success("Every enumerated value is one the contract allows.")
else:
    components.data_table(
        unknown.rename(
            columns={
                "table_name": "Table",
                "column_name": "Column",
                "value": "Value",
                "row_count": "Rows",
            }
        ),
        context,
        "Unknown values",
    )
st.subheader("Empty required columns")
st.caption(
    "NULLs in columns the contract requires, over whole tables (a row with no date belongs to no "
    "period). Indicators leave such rows out as the data contract describes."
)
nulls = data.load(required_nulls, context.url, context.filters, threshold=context.threshold)
nulls = nulls[nulls["row_count"].isna() | (nulls["row_count"] > 0)]
if nulls.empty:
    st.success("Every required column is filled in.")
else:
    components.data_table(
        nulls.rename(columns={"table_name": "Table", "column_name": "Column", "row_count": "Rows"}),
        context,
        "Empty required columns",
    )
st.subheader("Keys and dates")
st.caption(
    "Over whole tables: rows whose key another row shares, and event dates after today or "
    "before 2020 (such rows fall outside every period)."
)
keys = data.load(
    table_checks, context.url, context.filters, threshold=context.threshold, today=today_eat()
)
keys = keys[keys["row_count"].isna() | (keys["row_count"] > 0)]
if keys.empty:
    st.success("No duplicate keys, and every event date lies between 2020 and today.")
else:
    components.data_table(
        keys.rename(columns={"check": "Check", "table_name": "Table", "row_count": "Rows"}),
        context,
        "Keys and dates",
    )
spellings = data.load(
    timestamp_spellings, context.url, context.filters, threshold=context.threshold
)
if not spellings.empty:
    st.subheader("Timestamps written more than one way")
    st.caption(
        "SQLite keeps timestamps as text. The dashboard reads every ISO spelling alike, but two "
        "spellings in one column usually mean two writers: check that both write UTC."
    )
    components.data_table(
        spellings.rename(
            columns={
                "table_name": "Table",
                "column_name": "Column",
                "spelling": "Written as",
                "row_count": "Rows",
            }
        ),
        context,
        "Timestamp spellings",
    )
