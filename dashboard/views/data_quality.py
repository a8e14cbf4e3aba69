"""Data quality (administrators): rows that break the data contract, for the data team to fix."""

from __future__ import annotations

import streamlit as st

from dashboard import components, data
from dashboard.context import current
from queries.quality import quality_checks, required_nulls, unknown_values

context = current()
components.page_header("Data quality", context)
st.markdown(
    "Rows that do not follow the reporting data contract, over the selected period and counties. "
    "Charts count unknown values as *other*; nothing is changed in the database. Send this list to "
    "the ministry data team."
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
