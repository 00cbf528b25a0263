"""Making extracts: one under its lock, a batch on threads or a cluster, the dry run."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from ..batch import BatchItem, Progress, ProgressCallback, batch_of, ignore, run_pool
from ..burn import BurnStyle, ass_document, load_style
from ..errors import ClipkitError
from ..ffmpeg import (
    find_ffmpeg,
    input_path,
    run_ffmpeg,
    sha256_file,
    stop_all,
)
from ..formats import render
from ..fsutil import atomic_path, atomic_write_text, item_lock, remove_stale_parts, temp_dir
from ..sidecar import (
    ExtractSidecar,
    LoudnessRecord,
    write_sidecar,
)
from .freshness import (
    is_done,
    is_ours,
    make_sidecar,
    output_paths,
    recipe,
    state_of,
    update_sidecar,
    write_extract_tracks,
)
from .graph import build_encode_args, output_size
from .loudness import plan_gain
from .options import CutOptions, CutResult, Extract
from .rows import extract_cues, extract_words

if TYPE_CHECKING:
    from ..cluster import Cluster


def cut_one(
    extract: Extract, options: CutOptions, on_progress: Callable[[int], None] | None = None
) -> CutResult:
    paths = output_paths(extract, options.out_dir)
    cues = extract_cues(extract, options)
    style: BurnStyle = load_style(extract.style)
    binary = find_ffmpeg()
    gain = plan_gain(extract, options) if extract.info.has_audio else None
    width, height = output_size(extract.info, options.aspect)
    with temp_dir() as tmp:
        ass = None
        if options.burn and cues:
            ass = os.path.join(tmp, f"{extract.slug}.ass")
            words = extract_words(extract) if style.highlight_colour else None
            Path(ass).write_text(ass_document(cues, style, width, height, words), encoding="utf-8")
        with atomic_path(paths["mp4"]) as partial:
            args = build_encode_args(
                extract, options, input_path(partial), ass, gain.gain_db if gain else None, binary
            )
            run_ffmpeg(args, on_progress=on_progress, binary=binary, check_fonts=ass is not None)
            digest = sha256_file(partial)
            size = partial.stat().st_size
    for ext in ("srt", "vtt"):
        atomic_write_text(paths[ext], render(paths[ext], cues))
    write_extract_tracks(extract, options)
    made = ExtractSidecar(
        title="",
        slug=extract.slug,
        source="",
        start_ms=extract.start_ms,
        end_ms=extract.end_ms,
        video=paths["mp4"].name,
        srt=paths["srt"].name,
        vtt=paths["vtt"].name,
        cues=len(cues),
        burnt_in=ass is not None,
        aspect=options.aspect or f"{width}:{height}",
        size=size,
        sha256=digest,
        loudness=LoudnessRecord(
            target_lufs=options.loudness,
            integrated_lufs=gain.measured_lufs if gain else None,
            gain_db=round(gain.gain_db, 2) if gain else None,
            true_peak_limit_dbtp=options.true_peak,
        ),
        recipe=recipe(extract, options),
    )
    write_sidecar(paths["json"], make_sidecar(extract, options, made))
    return CutResult(
        extract,
        "done",
        paths["mp4"],
        paths["json"],
        loudness=gain.measured_lufs if gain else None,
    )


def cut_task(extract: Extract, options: CutOptions) -> CutResult:
    """On a cluster worker: one extract (what a killed attempt there left is removed first)."""
    from ..cluster import count_task

    count_task("cut")
    remove_stale_parts(options.out_dir)
    try:
        return cut_one(extract, options)
    except ClipkitError as exc:
        return CutResult(extract, "failed", error=f"{extract.row.where}: {exc}")


def default_jobs() -> int:
    """One extract per core. x264 alone already uses about 1.8 of 2 cores; running two extracts
    side by side fills the gaps (decoding, filters, the audio chain and the loudness passes are
    serial): `make bench` measured 1.95 cores busy and the batch 3% faster than one at a time."""
    return max(1, os.cpu_count() or 1)


def handle(ex: Extract, index: int, total: int) -> BatchItem:
    """An extract's place in the batch; its work is its length in ms."""
    return BatchItem(ex.slug, index, total, ex.duration_ms)


def cut_all(
    extracts: Sequence[Extract],
    options: CutOptions,
    on_event: ProgressCallback | None = None,
    cluster: Cluster | None = None,
) -> list[CutResult]:
    """Cut every extract not already made (the locks keep two runs from making one twice);
    with a `cluster`, each encode is a task on a worker offering the `encode` resource."""
    emit = on_event or ignore
    options.out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(options.out_dir)  # what a killed run left behind
    total = len(extracts)
    results: dict[int, CutResult] = {}
    todo = []
    for i, ex in enumerate(extracts):
        for w in ex.warnings:
            emit(handle(ex, i + 1, total).warning(f"{ex.row.where}: {w}"))
        if not options.force and is_done(ex, options):
            results[i] = CutResult(ex, "skipped", output_paths(ex, options.out_dir)["mp4"])
            emit(handle(ex, i + 1, total).finished("skipped", counted=False))
        else:
            todo.append(i)
    emit(batch_of(sum(extracts[i].duration_ms for i in todo), total))
    jobs = _jobs(extracts, todo, options, cluster)

    def work(i: int) -> CutResult:
        return _cut_locked(extracts[i], i + 1, total, options, emit, cluster)

    def finish(i: int, result: CutResult | None, error: str) -> CutResult:
        ex = extracts[i]
        if result is None:
            result = CutResult(ex, "failed", error=f"{ex.row.where}: {error}")
        results[i] = result
        emit(_closing(handle(ex, i + 1, total), result, options))
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:  # each job is an ffmpeg process
        # on an interrupt, the running ffmpegs are stopped: their workers remove partial files
        run_pool(pool, todo, work, finish, on_interrupt=stop_all)
    return [results[i] for i in range(total)]


def _jobs(
    extracts: Sequence[Extract], todo: list[int], options: CutOptions, cluster: Cluster | None
) -> int:
    """How many extracts are cut at once; on a cluster, its workers set the pace (after a
    check that they offer `encode` and see every input)."""
    from ..cluster import ENCODE

    jobs = max(1, min(options.jobs or default_jobs(), len(todo) or 1))
    if cluster is not None and todo:
        cluster.check_resource(ENCODE)
        inputs = {str(extracts[i].source) for i in todo}
        inputs |= {str(extracts[i].subs) for i in todo if extracts[i].subs is not None}
        cluster.check_paths(sorted(inputs), ENCODE)
        jobs = min(len(todo), 128)  # here each job only waits
    return jobs


def _cut_locked(
    ex: Extract, index: int, total: int, options: CutOptions, emit: ProgressCallback,
    cluster: Cluster | None,
) -> CutResult:  # fmt: skip
    """One extract under its lock: made, or found made (or only its metadata changed) by
    another run meanwhile; a file clipkit did not make is never overwritten without --force."""
    paths = output_paths(ex, options.out_dir)

    def waiting() -> None:
        msg = f"{ex.row.where}: waiting for another clipkit run making {paths['mp4'].name}"
        emit(handle(ex, index, total).warning(msg))

    with item_lock(paths["mp4"], waiting):
        state = "stale" if options.force else state_of(ex, options)
        if state == "done":  # another run made it meanwhile
            return CutResult(ex, "skipped", paths["mp4"])
        if state == "metadata":
            return update_sidecar(ex, options)
        if not options.force and not is_ours(paths["mp4"], paths["json"]):
            return CutResult(ex, "failed", error=(
                f"{ex.row.where}: {paths['mp4']} exists and clipkit did not make it (no "
                f"sidecar {paths['json'].name} names it); move it aside, or --force replaces it"
            ))  # fmt: skip
        return _make(ex, index, total, options, emit, cluster)


def _make(
    ex: Extract, index: int, total: int, options: CutOptions, emit: ProgressCallback,
    cluster: Cluster | None,
) -> CutResult:  # fmt: skip
    from ..cluster import ENCODE

    item = handle(ex, index, total)
    emit(item.start())

    def progress(ms: int) -> None:
        emit(item.progress(ms))

    try:
        if cluster is not None:
            key = f"clipkit-cut-{recipe(ex, options)[:32]}-{ex.slug}"
            return cluster.run_all([(key, cut_task, (ex, options))], ENCODE)[0]
        return cut_one(ex, options, progress)
    except ClipkitError as exc:
        return CutResult(ex, "failed", error=f"{ex.row.where}: {exc}")


def _closing(item: BatchItem, result: CutResult, options: CutOptions) -> Progress:
    """The extract's last event: skipped, done (its metadata only: the sidecar), or failed."""
    if result.status == "skipped":
        return item.finished("skipped", counted=False)
    if result.status == "updated":  # metadata only: the sidecar was rewritten
        return item.finished("done", (str(result.sidecar),), counted=False)
    if result.status == "done":
        outputs = [str(p) for p in output_paths(result.extract, options.out_dir).values()]
        return item.finished("done", outputs)
    return item.finished("failed", message=result.error)


def dry_run_commands(extract: Extract, options: CutOptions) -> list[list[str]]:
    """The ffmpeg runs `cut` makes for an extract, in order: the loudness passes (run now: they
    are audio-only and cheap, and the encode needs the gain they find), then the encode, which
    writes to a temporary name beside NAME.mp4 that is renamed when it succeeds."""
    record: list[list[str]] = []
    gain = plan_gain(extract, options, record) if extract.info.has_audio else None
    ass = None
    if options.burn and extract_cues(extract, options):
        ass = str(Path(tempfile_hint()) / f"{extract.slug}.ass")
    out = input_path(output_paths(extract, options.out_dir)["mp4"])
    encode = build_encode_args(extract, options, out, ass, gain.gain_db if gain else None)
    return [*record, encode]


def tempfile_hint() -> str:
    """Where the burn-in script is written (a private temp folder, made per extract)."""
    import tempfile

    return os.path.join(tempfile.gettempdir(), "clipkit-PID-XXXX")
