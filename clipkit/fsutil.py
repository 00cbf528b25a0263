"""Nothing is lost: outputs go to a temporary name beside the target and are renamed when done."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` only if the block succeeds.

    `mode` is set before anything is written (0o600 keeps a secret private from the start).
    """
    target = Path(target)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.stem[:40]}.", suffix=".part" + target.suffix, dir=target.parent
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
