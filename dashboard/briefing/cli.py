"""`python -m dashboard.briefing`: the briefing of a selection as .pptx, .xlsx or .pdf.

The selection arguments (--url, --from, --to, --county, --as-of, --as) and their checks are the
indicators command's (`queries.indicators.cli`); --compare picks the comparison period.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from queries.briefing import Briefing, build_briefing
from queries.db import DataSourceError
from queries.filters import COMPARISONS
from queries.indicators.cli import UsageError, add_selection_arguments, selection_from_args


def _writers() -> dict[str, Callable[[Briefing], bytes]]:
    from dashboard.briefing.deck import pptx_bytes
    from dashboard.briefing.pdf import pdf_bytes
    from dashboard.briefing.workbook import xlsx_bytes

    return {".pptx": pptx_bytes, ".xlsx": xlsx_bytes, ".pdf": pdf_bytes}


FORMATS = (".pptx", ".xlsx", ".pdf")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard.briefing",
        description="Write the PS briefing of a period and counties as PowerPoint, Excel or PDF.",
    )
    add_selection_arguments(parser)
    parser.add_argument("--compare", choices=tuple(COMPARISONS), default="previous")
    parser.add_argument(
        "--out", required=True, type=Path, help="the file to write: .pptx, .xlsx or .pdf"
    )
    return parser


def run(argv: Sequence[str] | None = None) -> Path:
    """Build the briefing and write it; returns the path written.

    Raises:
        UsageError: a bad argument (the message names it).
        DataSourceError: the database cannot be used.
    """
    args = _parser().parse_args(argv)
    suffix = args.out.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"--out must end in {', '.join(FORMATS)}, not '{args.out.name}'")
    if not args.out.parent.is_dir():
        raise UsageError(f"--out: folder {args.out.parent} does not exist")
    selection = selection_from_args(args, comparison=args.compare)
    model = build_briefing(
        selection.engine, selection.filters, selection.threshold, is_demo=selection.is_demo
    )
    args.out.write_bytes(_writers()[suffix](model))
    return args.out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: exit 0 with the file written, or one line naming the problem (2: a bad
    argument, 1: the database or the renderer failed)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        path = run(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DataSourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot write the file: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0
