"""The bytes of a table's downloads: CSV and Excel, built from the unrounded frame.

Pure functions (no Streamlit), so that tests can read back exactly what a user downloads.

Both files hold raw, unrounded numbers; hidden rehabilitation cells read '<5' / 'suppressed'
(`queries.privacy.labelled_for_display`, as on screen); codes (county, ward) stay text: in the
CSV as plain digits that `pandas.read_csv(..., dtype=str)` reads back with their leading zeros,
in the workbook as text cells, which Excel keeps as typed.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from queries.privacy import labelled_for_display

ABOUT_SHEET = "About"
_NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def is_code_column(name: object) -> bool:
    """County and ward codes: 'county_code', 'ward_code', 'Code'. Never turned into numbers."""
    text = str(name).lower()
    return text == "code" or text.endswith("_code")


def download_frame(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The table as both downloads hold it: hidden cells labelled, flag columns dropped, codes
    as text, datetimes without a time zone (EAT dates and times as the database gives them)."""
    frame = labelled_for_display(table, threshold)
    for column in frame.columns:
        values = frame[column]
        if is_code_column(column):
            frame[column] = values.map(lambda v: None if _missing(v) else str(v)).astype(object)
        elif isinstance(values.dtype, pd.DatetimeTZDtype):
            frame[column] = values.dt.tz_localize(None)
    return frame


def csv_bytes(table: pd.DataFrame, threshold: int) -> bytes:
    """The CSV download: one header row of column names, unrounded numbers, codes as text."""
    return download_frame(table, threshold).to_csv(index=False).encode("utf-8")


def excel_bytes(
    table: pd.DataFrame, threshold: int, sheet: str, about: Sequence[tuple[str, str]]
) -> bytes:
    """The Excel download: the table on the first sheet (numbers as numbers, codes and the
    privacy rule's labels as text), and an 'About' sheet of label / value rows (filters, source,
    data as of)."""
    frame = download_frame(table, threshold)
    book = Workbook()
    data = book.active
    data.title = sheet_title(sheet)
    data.append([str(c) for c in frame.columns])
    codes = [is_code_column(c) for c in frame.columns]
    for row in frame.itertuples(index=False, name=None):
        data.append([_cell(v, code) for v, code in zip(row, codes, strict=True)])
    for index, (name, code) in enumerate(zip(frame.columns, codes, strict=True), start=1):
        letter = get_column_letter(index)
        if code:
            for (cell,) in data.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "@"
        data.column_dimensions[letter].width = min(max(len(str(name)) + 2, 10), 40)
    data.freeze_panes = "A2"
    info = book.create_sheet(ABOUT_SHEET)
    for label, value in about:
        info.append([label, value])
    info.column_dimensions["A"].width = 22
    info.column_dimensions["B"].width = 90
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def sheet_title(name: str) -> str:
    """A valid worksheet name: no []:*?/\\ and at most 31 characters."""
    title = _SHEET_FORBIDDEN.sub("-", name).strip("'") or "Table"
    return title[:31]


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _cell(value: object, code: bool) -> object:
    """One value as an Excel cell: codes as text; numbers (and the plain-number text of a
    labelled column) as numbers; the rest as it is."""
    if _missing(value):
        return None
    if code:
        return str(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        if _NUMBER.match(value):
            number = float(value)
            return int(number) if number.is_integer() and "." not in value else number
        return value
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, bool | int | float | dt.date | dt.datetime | dt.time):
        return value
    return str(value)
