"""Python's cycle collector, paused where a step makes many objects it would walk again and again.

A batch chunk allocates hundreds of thousands of small acyclic objects (rows, cells, findings),
and each automatic collection would walk every object of the process again (about a tenth of
the time of a chunk, benchmarks/batch_speed.py); a command's imports (pandas, pandera) do the
same at start-up (a cold `validate` of the sample: 0.95–1.09 s with the collector on, 0.69–0.80 s
with it paused, run in turn).  Reference counting still frees everything as usual.  Kept apart
from batch.py so that the command line can use it before anything heavy is imported.
"""

from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def paused(freeze: bool = False):
    """The collector off inside the block.  Drop what the block no longer needs before it ends:
    the first collection after it walks every object still alive (0.39 → 0.06 ms per workbook
    once a chunk's grids are dropped first).  `freeze`: what the block made lives as long as the
    process (imported modules), so it is moved out of every later collection's sight."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()
