"""Many workbooks at once: on all cores of this machine, or on an existing Dask cluster.

A 财政局 reviewer points `xlplugin validate` at a folder of hundreds of unit workbooks.
They travel in chunks of 16–64: a task reads and recognises each workbook of its chunk,
then runs the schemas and screens the arithmetic rules once over the whole chunk
(rules/schemas.py, rules/screen.py), and annotates if asked.  Tasks run in worker
processes (concurrent.futures) or on a Dask distributed cluster (`--scheduler
tcp://host:port`) — no scheduler of our own.  Results come back as WorkbookReports
without their DataFrames (what the reports need is kept), in input order; a file that
cannot be read is a result too, so one bad file never stops the batch.  Nor does a bug met
on one file (that file's result says so), nor a worker process that dies: the chunks it
left run again one by one in processes of their own, each workbook alone if need be (on
Dask, the workbooks of a chunk whose every worker died run again one task at a time).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import gc
import glob
import logging
import multiprocessing
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .collector import paused as collector_paused
from .model import NotChecked, WorkbookReport
from .report.findings import verdict_of
from .report.summary import is_summary
from .specs import DEFAULT_YEAR
from .text import os_problem, printable

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
# Found in folders too, though they cannot be read: the summary must say so, with the way out
# (save as .xlsx), rather than leave a unit out of the batch without a word.
UNREADABLE_SUFFIXES = (".xls", ".et", ".xlsb", ".ods")
T = TypeVar("T")
# written into an --annotate-dir folder: a later search of a folder holding it leaves the copies out
ANNOTATED_MARK = ".xlplugin-标注副本"
_MARK_TEXT = "本文件夹中是 xlplugin 写出的标注副本。检查上级文件夹时，本文件夹中的工作簿不计入；直接检查本文件夹时照常检查。\n"


@dataclass(frozen=True)
class Options:
    reader: str = "calamine"
    year: int = DEFAULT_YEAR
    catalogs: tuple[str, ...] = ()
    rules_file: str | None = None
    annotate_to: str | None = None  # a file (single workbook) or, with annotate_dir, a folder
    annotate_dir: bool = False
    in_place: bool = False
    allow_loss: bool = False
    annotate_root: str = ""  # with annotate_dir: the inputs' common folder, mirrored inside it (run_many sets it)
    # the folder that relative paths (inputs, --annotate*, --rules, --catalog) are relative to: ''
    # for this process's own; a Dask worker runs in a folder of its own, often on another machine
    base: str = ""

    def at(self, path: str) -> str:
        """`path` as this process must open it."""
        return os.path.join(self.base, path) if self.base and path else path


@dataclass
class Outcome:
    """What became of one input: a report, or why it could not be read or annotated."""

    path: str
    report: WorkbookReport | None = None
    error: str = ""
    annotated: str = ""
    internal: bool = False  # no report because of a bug, not because the file cannot be read
    skipped: str = ""  # why the input is no unit's workbook and was left out (a summary table of ours)


def expand_inputs(
    arguments: Iterable[str],
    outputs: str | None = None,
    written: Iterable[str] = (),
    found_nothing: list[str] | None = None,
    skipped: list[tuple[str, str]] | None = None,
    unreadable: list[tuple[str, str]] | None = None,
) -> list[str]:
    """Files as given; glob patterns expanded (a folder they match is searched); folders searched
    recursively for .xlsx/.xlsm (and .xls/.et/.xlsb/.ods, which are then reported as unreadable).
    What a folder or a pattern finds leaves out Excel's lock files (~$…), hidden files, the backups
    --in-place left beside their originals (单位.bak.xlsx) and what this
    run writes (anything inside `outputs`, its --annotate-dir, which may hold the copies of an
    earlier run, and the files `written`, its --summary table) and the folders below it that an
    earlier run's --annotate-dir marked (ANNOTATED_MARK).  A folder that cannot be opened is added
    to `unreadable` with the reason (its workbooks would otherwise be left out without a word).  A
    lock file given by name (a shell's *.xlsx while a colleague has a workbook open) is added to
    `skipped` with the reason.
    The folders and patterns that found nothing are added to `found_nothing`.  Linked folders are
    searched too, after the real ones (a file is named by its own folders where it can be); a
    file reached twice (a folder and a file in it, or a link to it) is checked once; a broken link
    is kept, for the check to report.  Nothing is opened here: on a network share each file costs
    round trips, and the workers open them anyway (run_chunk skips our own summary tables)."""
    from .io.files import is_backup

    folder = Path(os.path.abspath(outputs)) if outputs else None
    files = {Path(os.path.abspath(f)) for f in written if f}
    left: list[tuple[str, str]] = []
    closed: list[tuple[str, str]] = []

    def refused(error: OSError) -> None:
        closed.append((error.filename or "", os_problem(error)))

    def wanted(path: Path) -> bool:
        """A file a folder search or a pattern found is to be checked."""
        if path.suffix.lower() not in WORKBOOK_SUFFIXES + UNREADABLE_SUFFIXES or path.name.startswith(("~$", ".")) or is_backup(path):
            return False
        if not path.is_file() and path.exists():  # a folder named x.xlsx; a broken link is kept, to be reported
            return False
        absolute = Path(os.path.abspath(path))
        return not (absolute in files or (folder and absolute.is_relative_to(folder)))

    def searched(place: str, seen: set[str]) -> list[str]:
        """The wanted files below `place` whose folder is not in `seen` (real paths): the real
        folders first, then those reached through links (each folder once: a link may point back
        up, and a pattern such as 文件夹/** matches every folder below another)."""
        found: list[str] = []
        linked = [place] if os.path.islink(place) else []

        def walk(top: str, follow: bool) -> None:
            for folder, subfolders, names in os.walk(top, onerror=refused, followlinks=follow):
                real = os.path.realpath(folder)
                if real in seen or (ANNOTATED_MARK in names and folder != place):
                    subfolders.clear()
                    continue
                seen.add(real)
                if not follow:
                    linked.extend(os.path.join(folder, name) for name in subfolders if os.path.islink(os.path.join(folder, name)))
                found.extend(str(p) for p in (Path(folder, name) for name in names) if wanted(p))

        if not linked:
            walk(place, False)
        for link in linked:
            walk(link, True)
        return sorted(found)

    found_by: dict[str, list[str]] = {}
    for argument in arguments:
        if os.path.isdir(argument):
            found_by[argument] = searched(argument, set())
        elif any(char in argument for char in "*?[") and not os.path.exists(argument):
            seen: set[str] = set()
            if "**" in Path(argument).parts:  # glob's ** follows a link that points back up ~40 levels deep, and
                # two such links make it run for ever: the folder walk visits each folder once
                base = _fixed_part(argument)
                found_by[argument] = [p for p in searched(base, seen) if _matches(Path(argument).parts, Path(p).parts)] if os.path.isdir(base) else []
            else:
                matches = [m for m in sorted(glob.glob(argument)) if not _annotated_copy(m, _fixed_part(argument))]
                found_by[argument] = [p for m in matches for p in (searched(m, seen) if os.path.isdir(m) else [m] if wanted(Path(m)) else [])]
        elif _lock_file(argument):
            found_by[argument] = []
            left.append((argument, "Excel 或 WPS 的锁定文件（有人正打开对应的工作簿），不是工作簿"))
        else:
            found_by[argument] = [argument]
    if found_nothing is not None:
        found_nothing.extend(a for a, found in found_by.items() if not found and not any(path == a for path, _ in left))
    if skipped is not None:
        skipped.extend(left)
    if unreadable is not None:
        unreadable.extend(dict.fromkeys(closed))
    once = {}
    for path in (p for found in found_by.values() for p in found):
        key = os.path.normcase(os.path.realpath(path))
        if key not in once or (os.path.islink(once[key]) and not os.path.islink(path)):  # the file's own name before a link's
            once[key] = path
    return list(once.values())


def _matches(pattern: tuple[str, ...], path: tuple[str, ...]) -> bool:
    """Does `path` match the glob `pattern` part by part (** standing for any number of folders)?"""
    if not pattern:
        return not path
    if pattern[0] == "**":
        return any(_matches(pattern[1:], path[i:]) for i in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatch(path[0], pattern[0]) and _matches(pattern[1:], path[1:])


def _fixed_part(pattern: str) -> str:
    """The folder a glob pattern starts from: its path up to the first part with a wildcard."""
    parts = Path(pattern).parts
    fixed = next((i for i, part in enumerate(parts) if any(char in part for char in "*?[")), len(parts))
    return str(Path(*parts[:fixed])) if fixed else "."


def _annotated_copy(path: str, base: str) -> bool:
    """Is `path` (a file, or a folder a pattern matched) a folder below `base` that an --annotate-dir
    marked, or inside one?"""
    top = Path(os.path.abspath(base))
    here = Path(os.path.abspath(path))
    while here != top and here.is_relative_to(top):
        if (here / ANNOTATED_MARK).is_file():
            return True
        here = here.parent
    return False


def mark_annotate_folder(folder: str) -> None:
    """Make the --annotate-dir folder and say in it that it holds copies (ANNOTATED_MARK).  Where
    it cannot be made, each copy then says so (its outcome), with the file it was for."""
    mark = Path(folder) / ANNOTATED_MARK
    with contextlib.suppress(OSError):
        Path(folder).mkdir(parents=True, exist_ok=True)
        if not mark.exists():
            mark.write_text(_MARK_TEXT, encoding="utf-8")


def _lock_file(path: str) -> bool:
    """Excel's (and WPS's) ~$name.xlsx beside an open workbook: a few bytes naming who opened it."""
    if not Path(path).name.startswith("~$"):
        return False
    try:
        with open(path, "rb") as handle:
            return handle.read(2) != b"PK"
    except OSError:
        return False


def run_chunk(paths: list[str], options: Options) -> list[Outcome]:
    """Validate (and annotate) several workbooks in this process: each is read and recognised,
    then the schemas run once over all of them (rules/schemas.py); never raises for a bad input,
    nor for a bug met on one input (that input's outcome says so)."""
    from .io.readers import WorkbookReadError, read_workbook
    from .rules.validate import load_rules
    from .specs import load_year
    from .tables.recognize import recognize

    spec = load_year(options.year, tuple(map(options.at, options.catalogs)))
    rules = load_rules(options.year, options.rules_file and options.at(options.rules_file))
    outcomes = [Outcome(path) for path in paths]
    to_annotate = []
    with collector_paused():
        read = []
        for outcome in outcomes:
            if _stopping():  # the command was interrupted: nobody waits for the rest
                return outcomes
            try:
                inspection = recognize(read_workbook(options.at(outcome.path), options.reader), spec, outcome.path, options.reader)
                if not any(inspection.tables.values()) and is_summary(options.at(outcome.path)):
                    outcome.skipped = SUMMARY_SKIPPED
                    continue
                read.append((outcome, inspection))
            except WorkbookReadError as error:
                outcome.error = f"{outcome.path}: {error.problem}"  # the path as the user gave it (nosuchdir/ too)
            except BaseException as error:  # a bug met on one workbook: it is reported, the others are checked
                if not (isinstance(error, Exception) or _panic(error)):
                    raise  # Ctrl+C, exit
                outcome.error, outcome.internal = _internal(outcome.path, error), True
        for outcome, report in _validated(read, spec, rules):
            outcome.report = report
            target = _annotation_target(options.at(outcome.path), options)
            if target is None:
                report.inspection = _lean(report.inspection)
            else:
                to_annotate.append((outcome, target))
        del read  # the grids go before the collector resumes, or its first pass walks them all
    for outcome, target in to_annotate:  # openpyxl's workbooks hold cycles: annotate with the collector on
        try:
            if not _stopping():
                outcome.annotated, outcome.error = _annotate(outcome.report, Path(options.at(outcome.path)), target, options)
        except Exception as error:  # the findings stand; only the annotated copy is missing
            outcome.error = _internal(outcome.path, error)
        outcome.report.inspection = _lean(outcome.report.inspection)
    return outcomes


def _validated(read: list, spec, rules) -> list[tuple[Outcome, WorkbookReport]]:
    """(outcome, report) for each (outcome, inspection) of `read`, all at once; should a bug stop
    that, one by one, so that only the workbook that meets the bug goes without a report."""
    from .rules.validate import validate_inspections

    try:
        return list(zip([o for o, _ in read], validate_inspections([i for _, i in read], spec, rules)))
    except Exception:
        validated = []
        for outcome, inspection in read:
            try:
                validated.append((outcome, validate_inspections([inspection], spec, rules)[0]))
            except Exception as error:
                outcome.error, outcome.internal = _internal(outcome.path, error), True
        return validated


def _panic(error: BaseException) -> bool:
    """A panic in native code (python-calamine's Rust): pyo3 raises it as a BaseException, past
    every `except Exception`, and it would stop the batch; it concerns the one workbook read."""
    return type(error).__name__ == "PanicException"


def _internal(path: str, error: BaseException) -> str:
    """A bug, said in one line for the user and with the place for the developers."""
    frames = traceback.extract_tb(error.__traceback__)
    place = f"（{Path(frames[-1].filename).name}:{frames[-1].lineno}）" if frames else ""
    return _not_checked(path, f"{type(error).__name__}: {error}{place}")


def _not_checked(path: str, why: str) -> str:
    return f"{path}: 程序内部错误（internal error），本文件未能检查；请把文件和这条信息发给开发者：{why}"


def run_many(paths: list[str], options: Options, jobs: int = 0, scheduler: str = "", progress: Callable[[int, int], None] | None = None) -> list[Outcome]:
    """All inputs, in input order, on worker processes (jobs: 0 = all cores) or a Dask cluster.

    Inputs travel in chunks, so that each worker stacks its chunk's tables for the schemas."""
    if not paths:
        return []
    done: dict[str, Outcome] = {}

    def record(outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            done[outcome.path] = outcome
        if progress:
            progress(len(done), len(paths))

    if options.annotate_dir and not options.annotate_root:
        options = dataclasses.replace(options, annotate_root=_common_folder(paths))
    if options.annotate_dir and options.annotate_to:
        mark_annotate_folder(options.annotate_to)
    workers = jobs or os.cpu_count() or 1
    parts = chunks(paths, workers)
    if scheduler:
        options = dataclasses.replace(options, base=os.getcwd())  # the workers' own folders are elsewhere
        with collector_paused():  # results arrive as pickles of many small objects
            _on_dask(paths, options, scheduler, record)
    elif workers == 1 or len(parts) == 1:
        for chunk in parts:
            record(run_chunk(chunk, options))
    else:
        for chunk in _on_processes(parts, options, workers, record):  # left when a worker process died
            record(_in_own_process(chunk, options))
    return [done[path] for path in paths]


def _on_processes(parts: list[list[str]], options: Options, workers: int, record: Callable[[list[Outcome]], None]) -> list[list[str]]:
    """The chunks on a pool of worker processes; returns those left unfinished because a worker
    process died (a crash in native code: the pool is then broken and stops every chunk)."""
    unfinished = []
    # not `with`: its exit shuts the pool down again, which forgets the cancelling below and runs
    # every chunk to the end after a Ctrl+C
    stop = multiprocessing.get_context().Event()
    pool = ProcessPoolExecutor(max_workers=pool_size(workers, len(parts)), initializer=_worker_start, initargs=(stop,))
    ctrl_c = _CtrlC(pool, stop)
    try:
        with collector_paused():
            ctrl_c.ignored()  # the workers start now (fork or spawn) and are born ignoring it
            futures = {pool.submit(run_chunk, chunk, options): chunk for chunk in parts}
            ctrl_c.heard()
            for future in as_completed(futures):
                try:
                    record(future.result())
                except BrokenProcessPool:
                    unfinished.append(futures[future])
    except BaseException:  # Ctrl+C: the chunks not yet started are dropped, those started stop at their next workbook
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise  # Ctrl+C stays with _CtrlC while the command exits
    ctrl_c.restored()
    pool.shutdown()
    return unfinished


class _CtrlC:
    """Ctrl+C while a batch runs on worker processes, in the command's main thread.  The first
    press sets `stop` (each worker ends its chunks at the next workbook) and raises
    KeyboardInterrupt, so that the command drops the chunks not started and exits once the
    workers have stopped; a second press, should a worker not stop (a slow share, a huge
    workbook), kills the workers and exits at once.  A terminal sends Ctrl+C to every process of
    the group: the workers ignore it from birth (a worker interrupted while it imports printed a
    traceback; one interrupted in its queue's traffic could hang the command for good)."""

    def __init__(self, pool: ProcessPoolExecutor, stop):
        self.pool, self.stop, self.presses, self.workers, self.early = pool, stop, 0, {}, False
        self.active = threading.current_thread() is threading.main_thread()  # signals reach only that thread
        self.previous = signal.getsignal(signal.SIGINT) if self.active else None

    def ignored(self) -> None:
        """While the workers start: a press is only noted (a worker forked now inherits a handler
        that does nothing else, until its initializer ignores Ctrl+C), and acted on by heard()."""
        if self.active:
            signal.signal(signal.SIGINT, self._noted)

    def _noted(self, signum, frame) -> None:
        self.early = True

    def heard(self) -> None:
        """From now on Ctrl+C is heard; the workers have started (the pool forgets them when shut down).
        A press while they started is acted on now (it had been lost: the batch ran to its end)."""
        self.workers = getattr(self.pool, "_processes", None) or {}
        if self.active:
            signal.signal(signal.SIGINT, self._pressed)
            if self.early:
                self._pressed(signal.SIGINT, None)

    def restored(self) -> None:
        if self.active:
            signal.signal(signal.SIGINT, self.previous)

    def _pressed(self, signum, frame) -> None:
        self.stop.set()
        self.presses += 1
        if self.presses == 1:
            raise KeyboardInterrupt
        for process in list(self.workers.values()):
            process.kill()
        sys.stderr.write("\nxlplugin: 已立即结束（killed）\n")
        sys.stderr.flush()
        os._exit(130)


def _worker_start(stop) -> None:
    """A worker process leaves Ctrl+C to the command: a terminal sends it to every process of the
    group, and a worker stopped in the middle of its queue's traffic could hang the whole batch.
    The command sets `stop` instead, and the chunks a worker holds (its own and those queued for
    it) end at their next workbook."""
    global _STOP
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _STOP = stop
    # forked while the command had the collector paused: a worker without it never frees the
    # cycles of openpyxl's workbooks (--annotate-dir: about 0.2 MB more per workbook, 460 MB a
    # worker after 1,500); run_chunk pauses it where that pays
    gc.enable()


_STOP = None  # in a worker process: the command's Event, set when it was interrupted


def _stopping() -> bool:
    return _STOP is not None and _STOP.is_set()


def pool_size(workers: int, tasks: int, platform: str = sys.platform, cores: int | None = None) -> int:
    """Worker processes for `tasks` chunks: no more than there are chunks or cores (--jobs 100 on
    2 cores ran 77 processes, slower and ten times the memory), and on Windows no more than 61,
    the most ProcessPoolExecutor accepts there (a 64-core server stopped the batch with a ValueError)."""
    return max(1, min(workers, tasks, cores or os.cpu_count() or 1, _WINDOWS_MOST_WORKERS if platform == "win32" else workers))


_WINDOWS_MOST_WORKERS = 61  # concurrent.futures.process._MAX_WINDOWS_WORKERS: it waits on at most 63 handles


def _in_own_process(chunk: list[str], options: Options) -> list[Outcome]:
    """A chunk left by a died worker, in a process of its own, one after the other (rare, so
    simple); if its process dies too, each workbook alone, and the one that kills its own
    process is reported as not checked."""
    outcomes = _alone(chunk, options)
    if outcomes is not None:
        return outcomes
    return [(_alone([path], options) or [_died(path)])[0] for path in chunk]


def _alone(paths: list[str], options: Options) -> list[Outcome] | None:
    with ProcessPoolExecutor(max_workers=1) as pool:
        try:
            return pool.submit(run_chunk, paths, options).result()
        except BrokenProcessPool:
            return None


def _died(path: str) -> Outcome:
    return Outcome(path, error=_not_checked(path, "处理此文件的进程意外退出（worker crashed）"), internal=True)


def chunks(paths: list[T], workers: int, least: int = 16, most: int = 64) -> list[list[T]]:
    """Chunks small enough to keep every worker busy and show progress, large enough for the
    stacked schemas and rules to pay off (benchmarks/batch_speed.py: 15.8 ms per workbook in
    chunks of 4, 11.2 in chunks of 60)."""
    spread = -(-len(paths) // (workers * 4))  # about four chunks per worker
    size = max(1, min(most, max(spread, min(least, -(-len(paths) // workers)))))
    return [paths[i : i + size] for i in range(0, len(paths), size)]


class SchedulerError(Exception):
    """The Dask cluster of --scheduler cannot be used (not installed, bad address, unreachable); str() is for the user."""


SCHEDULER_TIMEOUT = 30  # seconds to reach the scheduler: a busy one on the office network may take seconds


def _on_dask(paths: list[str], options: Options, scheduler: str, record: Callable[[list[Outcome]], None]) -> None:
    try:
        from dask.distributed import Client, KilledWorker
        from dask.distributed import as_completed as dask_completed
    except ImportError as error:
        raise SchedulerError(f'--scheduler 需要 Dask distributed，请先安装：pip install "xlplugin[cluster]"（{error}）') from error
    client = _connected(Client, scheduler)
    # a lost scheduler is said in one line below: not also in the client's own logged tracebacks
    with contextlib.ExitStack() as restore, client:  # the client closes (and may log) before logging is back
        logging.disable(logging.ERROR)
        restore.callback(logging.disable, logging.NOTSET)
        try:
            client.wait_for_workers(1, timeout=SCHEDULER_TIMEOUT)
        except Exception as error:
            raise SchedulerError(f"Dask 集群 {scheduler} 上没有可用的 worker（no workers），请先启动 dask worker（{error or type(error).__name__}）") from error
        workers = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()) or 1
        parts = chunks(paths, workers)
        futures = client.map(run_chunk, parts, options=options, pure=False)
        chunk_of = dict(zip(futures, parts))
        killed = []
        try:
            for future in dask_completed(futures):
                try:
                    record(future.result())
                except KilledWorker:  # every worker that took it died (Dask retries a few times)
                    killed.extend(chunk_of[future])
            for path in killed:  # one task at a time: a worker that dies then takes no other task with it
                try:
                    record(client.submit(run_chunk, [path], options, pure=False).result())
                except KilledWorker:
                    record([_died(path)])
        except KeyboardInterrupt:
            client.cancel(futures)  # the chunks not started stay so; those running end with their chunk
            raise
        except Exception as error:  # the scheduler went away (connection lost, cancelled futures)
            raise SchedulerError(
                f"与 Dask 集群 {scheduler} 的连接中断（scheduler lost），没有输出报告；请检查集群后重新运行，或去掉 --scheduler 在本机运行"
                f"（{type(error).__name__}: {' '.join(str(error).split())}）"
            ) from error


def _connected(client_type, scheduler: str):
    """A Client of `scheduler`, or SchedulerError within SCHEDULER_TIMEOUT and a few seconds: a port
    that answers but is no scheduler (its dashboard, another service) may keep the handshake
    waiting for ever, or send bytes that Dask reads as an absurd message size."""
    result: list = []

    def connect() -> None:
        try:
            result.append(client_type(scheduler, timeout=SCHEDULER_TIMEOUT))
        except BaseException as error:  # MemoryError from a stranger's bytes too
            result.append(error)

    thread = threading.Thread(target=connect, name="xlplugin-dask-connect", daemon=True)
    thread.start()
    thread.join(SCHEDULER_TIMEOUT + 5)
    if not result:
        raise SchedulerError(f"无法连接 Dask 集群 {scheduler}（cannot reach the scheduler）：{SCHEDULER_TIMEOUT} 秒内没有得到 Dask 调度器的应答；请确认地址和端口（调度器端口默认 8786，8787 是仪表板）")
    if isinstance(result[0], BaseException):
        error = result[0]
        if isinstance(error, KeyboardInterrupt):
            raise error
        raise SchedulerError(f"无法连接 Dask 集群 {scheduler}（cannot reach the scheduler）：{error or type(error).__name__}") from error
    return result[0]


def _annotation_target(path: str, options: Options) -> Path | None:
    if options.in_place:
        return Path(path)
    if options.annotate_dir and options.annotate_to:
        return Path(options.at(options.annotate_to)) / _below(path, options.annotate_root)
    if options.annotate_to:
        return Path(options.at(options.annotate_to))
    return None


def _common_folder(paths: list[str]) -> str:
    """The deepest folder holding every input ('' when they lie on different drives)."""
    try:
        return os.path.commonpath([os.path.dirname(os.path.abspath(path)) for path in paths])
    except ValueError:
        return ""


def _below(path: str, root: str) -> Path:
    """An input's place below `root`, which its annotated copy takes inside --annotate-dir: units
    often name their files alike (甲单位/2024年决算.xlsx, 乙单位/2024年决算.xlsx), and no copy may
    overwrite another.  Without a root (inputs on different drives), below a folder per drive."""
    absolute = Path(os.path.abspath(path))
    if root:
        return absolute.relative_to(root)
    return Path(absolute.drive.rstrip(":") or "root", *absolute.parts[1:])


def _annotate(report: WorkbookReport, source: Path, target: Path, options: Options) -> tuple[str, str]:
    from .io.annotate import AnnotateRefused, annotate_file
    from .io.files import backed_up
    from .marks import plan_marks

    shown = _as_given(target, options)
    if target.resolve() == source.resolve() and not options.in_place:
        return "", f"{shown}: 标注副本不能覆盖原文件；如需直接标注原文件请加 --in-place（would overwrite the original）"
    try:
        with backed_up(source, options.in_place) as backup:
            annotate_file(source, target, plan_marks(report), accept_loss=options.allow_loss)
    except AnnotateRefused as error:
        return "", str(error)
    except OSError as error:
        return "", f"{shown}: 无法写入（cannot write）：{os_problem(error)}"
    return shown + (f"（原文件备份：{_as_given(backup, options)}）" if backup else ""), ""


def _as_given(path: Path, options: Options) -> str:
    """`path` as the user's command named it, without the caller's folder a Dask worker joined to
    it (Options.at), so that the messages of both paths read the same."""
    text, prefix = str(path), os.path.join(options.base, "")
    return text[len(prefix) :] if options.base and text.startswith(prefix) else text


def _lean(inspection):
    """The inspection without its DataFrames: what reports need travels, the grids stay behind."""
    for table in inspection.tables.values():
        if table is not None:
            table.blocks = {}
    return inspection


class ProgressBar:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream, self.width = stream, width
        self.enabled = hasattr(stream, "isatty") and stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        filled = int(self.width * done / total)
        self.stream.write(f"\r校验 [{'█' * filled}{'·' * (self.width - filled)}] {done}/{total}")
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


def not_checked(outcomes: list[Outcome]) -> list[NotChecked]:
    """The inputs that have no report, for the reports to list them too."""
    return [_left_out(o, number) for number, o in enumerate(outcomes, start=1) if o.report is None]


def _left_out(outcome: Outcome, number: int) -> NotChecked:
    return NotChecked(outcome.path, outcome.error.removeprefix(f"{outcome.path}: "), number, outcome.internal)


SUMMARY_HEADER = ("序号", "工作簿", "单位", "错误", "提示", "状态")
SUMMARY_SKIPPED = "xlplugin 写出的汇总表，不是单位的工作簿"  # why a summary table of ours among the inputs is left out


def summary_rows(outcomes: list[Outcome]) -> list[tuple[int, str, str, int | str, int | str, str]]:
    """Per workbook: unit, errors, warnings, status — the reviewer's overview of a batch."""
    rows: list[tuple[int, str, str, int | str, int | str, str]] = []
    for number, outcome in enumerate(outcomes, start=1):
        report = outcome.report
        if report is None:
            left_out = _left_out(outcome, number)
            rows.append((number, outcome.path, "", "", "", f"{left_out.status}：{left_out.problem}"))
            continue
        errors, warnings = report.count("error"), report.count("warning")
        status = verdict_of(report)
        if outcome.error:
            status += f"；未写出标注：{outcome.error.split(': ', 1)[-1]}"
        rows.append((number, outcome.path, report.unit or "—", errors, warnings, status))
    return rows


def summary_total(outcomes: list[Outcome]) -> str:
    readable = [o for o in outcomes if o.report is not None]
    failing = sum(1 for o in readable if o.report.fails())
    internal = sum(1 for o in outcomes if o.report is None and o.internal)
    unchecked = f"，程序内部错误未能检查 {internal} 个" if internal else ""
    return f"共 {len(outcomes)} 个工作簿：通过 {len(readable) - failing} 个，未通过 {failing} 个，无法读取 {len(outcomes) - len(readable) - internal} 个{unchecked}"


def summary_table(outcomes: list[Outcome]) -> str:
    """The summary as the terminal shows it: tab-separated (a tab or newline in a file or unit name
    shown as an escape), then the totals."""
    rows = ("\t".join(printable(str(value)) for value in row) for row in summary_rows(outcomes))
    lines = ["\t".join(SUMMARY_HEADER), *rows, summary_total(outcomes)]
    return "\n".join(lines)
