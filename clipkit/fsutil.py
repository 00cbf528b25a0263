"""Nothing is lost: outputs go to a temporary name beside the target and are renamed when done."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import stat
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
    return removed + remove_stale_locks(folder)


@contextlib.contextmanager
def temp_dir() -> Iterator[str]:
    """A private temporary folder named with this process's pid (see remove_stale_parts)."""
    with tempfile.TemporaryDirectory(prefix=f"clipkit-{os.getpid()}-") as tmp:
        yield tmp


def lock_path(target: str | os.PathLike[str]) -> Path:
    target = Path(target)
    return target.parent / f".{target.name}.lock"


def _open_lock(lock: Path) -> int:
    """The lock file, never through a symlink: a planted `.NAME.lock` link must not make clipkit
    create or truncate a file elsewhere."""
    from .errors import OutputError

    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(lock, flags, 0o644)
    except OSError as exc:
        if lock.is_symlink():
            raise OutputError(
                f"{lock}: is a symbolic link, not a lock file clipkit made; remove it"
            ) from exc
        raise OutputError(f"{lock}: cannot open the lock file ({exc.strerror})") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OutputError(f"{lock}: is not a regular file; remove it")
    return fd


def remove_stale_locks(folder: str | os.PathLike[str]) -> list[Path]:
    """Lock files nobody holds (a run killed with -9 leaves them): removed. A holder or a waiter
    keeps its own; one that opened a removed file finds it gone and opens the new one."""
    import fcntl

    removed = []
    try:
        entries = [e for e in Path(folder).iterdir() if e.name.startswith(".")]
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.endswith(".lock") or entry.is_symlink() or not entry.is_file():
            continue
        try:
            fd = os.open(entry, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            if os.fstat(fd).st_ino == os.stat(entry).st_ino:
                entry.unlink()
                removed.append(entry)
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)
    return removed


def inside(root: Path, value: str | os.PathLike[str], what: str) -> Path:
    """`value` (relative to `root`, or absolute) as a path that resolves inside `root`, links
    followed; an InputError naming `what` otherwise. What clipkit copies or serves passes here."""
    from .errors import InputError

    base = Path(root).resolve()
    path = (base / value).resolve()
    if path != base and base not in path.parents:
        raise InputError(f"{what} = {str(value)!r} is outside the project folder {base}")
    return path


def replace_all(pairs: list[tuple[Path, str]]) -> None:
    """Several files rewritten as a set: every temp written first, then all renamed, so a failure
    while writing leaves every file as it was."""
    from .errors import OutputError

    for target, _ in pairs:  # what would make a rename fail, found before anything changes
        if target.is_symlink() or (target.exists() and not target.is_file()):
            raise OutputError(f"{target}: not a regular file; nothing was rewritten")
    temps: list[Path] = []
    try:
        for target, text in pairs:
            fd, tmp = tempfile.mkstemp(
                prefix=f".{target.stem[:40]}.{_HOST}~{os.getpid()}-",
                suffix=".part" + target.suffix,
                dir=target.parent,
            )
            temps.append(Path(tmp))
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
            os.chmod(tmp, 0o666 & ~_umask())
    except BaseException:
        for tmp in temps:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        raise
    for (target, _), tmp in zip(pairs, temps, strict=True):
        os.replace(tmp, target)


def check_regular_file(path: str | os.PathLike[str], what: str = "recording") -> None:
    """A FIFO or a device as input would hang ffmpeg (it waits for a writer): refused at once,
    as is a file the user cannot read (named as such, not as `not a media file`)."""
    from .errors import MediaError

    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError as exc:
        raise MediaError(f"{p}: no such file") from exc
    except OSError as exc:
        raise MediaError(f"{p}: cannot be read ({exc.strerror})") from exc
    if stat.S_ISDIR(st.st_mode):
        raise MediaError(f"{p}: is a directory, not a {what}")
    if not stat.S_ISREG(st.st_mode):
        kind = "a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else "not a regular file"
        raise MediaError(f"{p}: is {kind}, not a {what} file")
    if not os.access(p, os.R_OK):
        raise MediaError(f"{p}: permission denied (the {what} is not readable by you)")


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
    lock = lock_path(target)
    waited = False
    while True:
        fd = _open_lock(lock)
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


UTF8_HINT = "save it as UTF-8 (a spreadsheet: CSV UTF-8; a text editor: encoding UTF-8)"


def read_user_text(path: str | os.PathLike[str]) -> str:
    """A text file the user wrote or saved (plan, selections, stories.toml): UTF-8 (a BOM is
    allowed); anything else is named with how to save it right."""
    from .errors import InputError

    p = Path(path)
    try:
        return p.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"{p}: no such file") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{p}: is a directory, not a text file") from exc
    except PermissionError as exc:
        raise InputError(f"{p}: permission denied") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: not UTF-8 text (byte {exc.start + 1}); {UTF8_HINT}") from exc
