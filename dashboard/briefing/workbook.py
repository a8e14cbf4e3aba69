"""The briefing as an Excel workbook (openpyxl): `Indicators` first, one row per contract
indicator, then one sheet per table behind the slides, then `About`.

Numbers are unrounded numbers; hidden values are the text '<5' / 'suppressed'; no value is an
empty cell; county codes are text ('001').
"""

from __future__ import annotations

import io

from openpyxl import Workbook

from dashboard.downloads import is_code_column, sheet_title
from queries.briefing.model import Briefing, Cell

INDICATOR_COLUMNS = ("key", "label", "value", "comparison", "change", "unit")


def _cell(value: Cell | bool, code: bool) -> object:
    if value is None:
        return None
    if code:
        return str(value)
    return value


def _append(sheet, values: list, codes: list[bool]) -> None:
    sheet.append([_cell(v, c) for v, c in zip(values, codes, strict=True)])
    for cell, code in zip(sheet[sheet.max_row], codes, strict=True):
        if code:
            cell.number_format = "@"


def xlsx_bytes(model: Briefing) -> bytes:
    """The workbook's bytes."""
    book = Workbook()
    first = book.active
    first.title = "Indicators"
    first.append(list(INDICATOR_COLUMNS))
    for row in model.indicators:
        first.append([row.key, row.label, row.value, row.comparison, row.change, row.unit])
    first.column_dimensions["A"].width = 32
    first.column_dimensions["B"].width = 36
    first.freeze_panes = "A2"
    used = {"Indicators", "About"}
    for slide in model.slides:
        for table in slide.tables:
            name = sheet_title(table.name)
            suffix = 2
            while name in used:
                name = sheet_title(f"{table.name[:27]} {suffix}")
                suffix += 1
            used.add(name)
            sheet = book.create_sheet(name)
            sheet.append(table.columns)
            codes = [is_code_column(c) for c in table.columns]
            for values in table.rows:
                _append(sheet, values, codes)
            sheet.freeze_panes = "A2"
    about = book.create_sheet("About")
    for label, value in (
        ("title", model.title),
        ("period", model.period_text),
        (
            "comparison",
            f"{model.comparison_label} ({model.comparison_start} – {model.comparison_end})",
        ),
        ("comparison note", model.comparison_note or ""),
        ("counties", ", ".join(model.counties) or "all counties in scope"),
        ("data as of", f"{model.as_of} ({model.data_as_of or 'no reports'})"),
        ("generated at", model.generated_at),
        ("privacy rule", f"counts from 1 to {model.threshold - 1} read '<{model.threshold}'"),
        ("synthetic demo data", "yes" if model.is_demo else "no"),
    ):
        about.append([label, value])
    about.column_dimensions["A"].width = 22
    about.column_dimensions["B"].width = 90
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
