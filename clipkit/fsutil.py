"""Nothing is lost: outputs go to a temporary name beside the target and are renamed when done."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` only if the block succeeds.

    `mode` is set before anything is written (0o600 keeps a secret private from the start).
    """
    target = Path(target)
    # the owner's pid in the name lets a later run remove what a killed run left behind
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.stem[:40]}.{_HOST}~{os.getpid()}-",
        suffix=".part" + target.suffix,
        dir=target.parent,
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        os.chmod(tmp_path, mode if mode is not None else 0o666 & ~_umask())  # mkstemp makes 0600
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def atomic_write_text(target: str | os.PathLike[str], text: str, mode: int | None = None) -> None:
    with atomic_path(target, mode) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def is_up_to_date(outputs: list[Path], inputs: list[Path]) -> bool:
    """True when every output exists and is at least as new as every input."""
    if not outputs or not all(o.is_file() for o in outputs):
        return False
    newest_input = max((i.stat().st_mtime_ns for i in inputs if i.exists()), default=0)
    return min(o.stat().st_mtime_ns for o in outputs) >= newest_input


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


# the host too: on a shared folder (a cluster) a pid means something only on its own machine
_HOST = re.sub(r"[^A-Za-z0-9-]", "", socket.gethostname())[:24] or "host"
_PART = re.compile(r"^\..*\.(?:(?P<host>[A-Za-z0-9-]*)~)?(?P<pid>\d+)-[^.]+\.part(\.[^.]*)?$")
_TEMP_DIR = re.compile(r"^clipkit-(?P<pid>\d+)-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_parts(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove partial outputs and temp folders left by clipkit runs that were killed (their
    process is gone); a running clipkit's files are left alone."""
    removed = []
    places = [(Path(folder), _PART), (Path(tempfile.gettempdir()), _TEMP_DIR)]
    for place, pattern in places:
        try:
            entries = list(place.iterdir())
        except OSError:
            continue
        for entry in entries:
            m = pattern.match(entry.name)
            if not m or m.groupdict().get("host", _HOST) not in (_HOST, None):
                continue  # another machine's file: its pid cannot be checked from here
            pid = int(m.group("pid"))
            if pid == os.getpid() or _alive(pid):
                continue
            with contextlib.suppress(OSError):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
                removed.append(entry)
    return removed


@contextlib.contextmanager
def temp_dir() -> Iterator[str]:
    """A private temporary folder named with this process's pid (see remove_stale_parts)."""
    with tempfile.TemporaryDirectory(prefix=f"clipkit-{os.getpid()}-") as tmp:
        yield tmp


@contextlib.contextmanager
def item_lock(
    target: str | os.PathLike[str], on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold an exclusive lock on making `target`, across processes (two `make all` runs on one
    project, or `make` beside a `clipkit cut`): the second waits, then finds it done.

    The lock file is removed on release; a waiter that then holds a removed file's lock tries
    again on the new one, so two runs never both hold it.
    """
    import fcntl

    target = Path(target)
    lock = target.parent / f".{target.name}.lock"
    waited = False
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None and not waited:
                on_wait()
            waited = True
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(fd)
