"""Once per server process: the objects that live as long as the process (modules, classes,
Streamlit, pandas, Plotly, SQLAlchemy) are moved out of the garbage collector's reach.

Python's full collections scan every tracked object. Right after the app's imports there are
about 140,000 of them, none garbage, and a full collection during a page then took 0.13-0.3 s
of that page on this 2-core machine; with them frozen (`gc.freeze`), 0.02-0.05 s. Frozen
objects are still freed when nothing refers to them; only cycles among them would never be
collected, and at this point there is nothing to collect (measured: 0 objects). Off with
USALAMA_GC_FREEZE=0.
"""

from __future__ import annotations

import gc
import logging
import os
import threading

log = logging.getLogger(__name__)

GC_FREEZE_ENV_VAR = "USALAMA_GC_FREEZE"


class _Once:
    done = False
    lock = threading.Lock()


_once = _Once()


def freeze_long_lived_objects() -> None:
    """Freeze what the process tracks now, the first time only (app.py calls it after its
    imports, on every run)."""
    with _once.lock:
        if _once.done:
            return
        _once.done = True
    if os.environ.get(GC_FREEZE_ENV_VAR, "1").strip() == "0":
        return
    gc.freeze()
    log.info(
        "%d long-lived objects moved out of the garbage collector's scans", gc.get_freeze_count()
    )
