"""Fault injection for the batch tests: a crash in native code, which no input is known to cause
any more (each one found was guarded against), put on one workbook inside Dask's own worker
processes.  A worker plugin, so that the workers Dask restarts after a crash carry it too."""

from __future__ import annotations

import faulthandler
import os

from distributed import WorkerPlugin


class AbortOn(WorkerPlugin):
    """Recognition aborts the worker process (as python-calamine aborts when it cannot allocate)
    on the workbook whose path ends with `suffix`."""

    def __init__(self, suffix: str):
        self.suffix = suffix

    def setup(self, worker) -> None:
        import xlplugin.tables.recognize

        recognize, suffix = xlplugin.tables.recognize.recognize, self.suffix

        def aborting(sheets, spec, path="", reader=""):
            if path.endswith(suffix):
                faulthandler.disable()  # its traceback dump would only be noise in the test output
                os.abort()
            return recognize(sheets, spec, path, reader)

        xlplugin.tables.recognize.recognize = aborting
