"""Extract plans: the in/out points an editor chose, from a CSV (spreadsheet) or TOML file.

Parsing here is pure (text in, rows out). Times stay as written until the recording's frame
rate is known, because `HH:MM:SS:FF` timecodes need it.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError, PlanError

REQUIRED = ("source", "start", "end")
# `origin`: the selection file (and line) a row came from; such rows are rewritten by
# `clipkit select --apply`, rows without one are the editor's own
OPTIONAL = ("title", "description", "tags", "slug", "subs", "style", "pad", "origin")
COLUMNS = REQUIRED + OPTIONAL


@dataclass(frozen=True)
class PlanRow:
    """One extract as written in the plan (times unparsed)."""

    where: str  # "plan.csv:3" - file and line, for messages
    source: str
    start: str
    end: str
    title: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    slug: str = ""
    subs: str = ""
    style: str = ""
    pad: str = ""
    fields: dict[str, str] = field(default_factory=dict, compare=False)


def _tags(value: object) -> tuple[str, ...]:
    if isinstance(value, list):
        items = [str(v) for v in value]
    else:
        items = re.split(r"[;,]", str(value or ""))
    return tuple(t.strip() for t in items if t.strip())


# OWASP's CSV-injection rule: a cell starting with one of these is run as a formula by Excel and
# LibreOffice. Such text is written with a leading apostrophe (a spreadsheet shows it as text)
# and read back without it; text that already starts with apostrophes then a formula character
# gets one more, so every value reads back exactly as it was.
FORMULA_START = re.compile(r"^'*[=+\-@\t\r\n]")


def _lf(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


def neutralise(value: str) -> str:
    return "'" + value if FORMULA_START.match(value) else value


def unneutralise(value: str) -> str:
    return value[1:] if value.startswith("'") and FORMULA_START.match(value) else value


class _Semicolons(csv.excel):
    delimiter = ";"


class _Tabs(csv.excel):
    delimiter = "\t"


def csv_dialect(text: str) -> type[csv.Dialect]:
    """The plan's own separator (a spreadsheet in a comma-decimal locale saves `;`), from its
    header line: whichever of , ; and tab it holds most (commas on a tie)."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    counts = {
        csv.excel: header.count(","),
        _Semicolons: header.count(";"),
        _Tabs: header.count("\t"),
    }
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[csv.excel] else csv.excel


def parse_plan_csv(text: str, name: str) -> list[PlanRow]:
    text = text.lstrip("\ufeff")  # spreadsheets save a BOM
    reader = csv.DictReader(io.StringIO(text), dialect=csv_dialect(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise PlanError([f"{name}: empty plan (expected a header row: {','.join(COLUMNS[:6])})"])
    problems = []
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        problems.append(
            f"{name}:1: unknown column(s) {', '.join(unknown)} (known: {', '.join(COLUMNS)})"
        )
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.append(f"{name}:1: missing column(s) {', '.join(missing)}")
    if problems:
        raise PlanError(problems)
    reader.fieldnames = header
    rows = []
    line = 1
    for raw in reader:
        line = reader.line_num
        values = {k: unneutralise((v or "").strip()).strip() for k, v in raw.items() if k}
        if not any(values.values()):
            continue  # blank spreadsheet rows
        rows.append(_row(f"{name}:{line}", values))
    return rows


def parse_plan_toml(text: str, name: str) -> list[PlanRow]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError([f"{name}: {exc}"]) from exc
    extracts = data.get("extract")
    if not isinstance(extracts, list) or not extracts:
        raise PlanError([f"{name}: no [[extract]] tables"])
    rows, problems = [], []
    for k, table in enumerate(extracts, start=1):
        where = f"{name}: extract {k}"
        unknown = [key for key in table if key not in COLUMNS]
        if unknown:
            problems.append(
                f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(COLUMNS)})"
            )
            continue
        missing = [c for c in REQUIRED if c not in table]
        if missing:
            problems.append(f"{where}: missing key(s) {', '.join(missing)}")
            continue
        values = {key: value if key == "tags" else str(value) for key, value in table.items()}
        rows.append(_row(where, values))
    if problems:
        raise PlanError(problems)
    return rows


def _row(where: str, values: dict) -> PlanRow:  # type: ignore[type-arg]
    return PlanRow(
        where=where,
        source=str(values.get("source", "")),
        start=str(values.get("start", "")),
        end=str(values.get("end", "")),
        title=str(values.get("title", "")),
        description=str(values.get("description", "")),
        tags=_tags(values.get("tags")),
        slug=str(values.get("slug", "")),
        subs=str(values.get("subs", "")),
        style=str(values.get("style", "")),
        pad=str(values.get("pad", "")),
        fields={k: str(v) for k, v in values.items()},
    )


def read_plan(path: Path) -> list[PlanRow]:
    from .fsutil import read_user_text

    if not path.exists():
        raise InputError(f"{path}: no such plan file")
    text = read_user_text(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return parse_plan_csv(text, str(path))
    if suffix == ".toml":
        return parse_plan_toml(text, str(path))
    raise InputError(f"{path}: a plan is a .csv or .toml file")


def slugify(text: str, max_length: int = 80) -> str:
    """A safe file name from a title: no path separators, no leading dots or dashes."""
    normal = unicodedata.normalize("NFKC", text).strip().lower()
    normal = re.sub(r"['’`]", "", normal)
    normal = re.sub(r"[^\w]+", "-", normal, flags=re.UNICODE)
    normal = re.sub(r"-{2,}", "-", normal).strip("-._ ")
    return normal[:max_length].rstrip("-") or "extract"


def update_plan(
    plan: Path, new: list[dict[str, str]], drop: Callable[[dict[str, str]], bool] | None = None
) -> int:
    """Add rows (dicts by column) to a plan, keeping its other rows, its columns (new ones are
    added at the end) and its separator: rows `drop` matches go first, and a new row whose
    source, start and end are already in the plan is not added twice. Returns how many rows were
    added. Every writer (review, find, select) holds the plan's lock: none loses another's row."""
    from .fsutil import atomic_write_text, item_lock, read_user_text

    with item_lock(plan):
        header = list(COLUMNS[:6])
        kept: list[dict[str, str]] = []
        dialect: type[csv.Dialect] = csv.excel
        if plan.is_file():
            text = read_user_text(plan)
            dialect = csv_dialect(text)
            reader = csv.DictReader(io.StringIO(text), dialect=dialect)
            header = list(reader.fieldnames or header)
            rows = [{k: unneutralise(v or "") for k, v in r.items() if k} for r in reader]
            kept = [r for r in rows if drop is None or not drop(r)]
        present = {(r.get("source"), r.get("start"), r.get("end")) for r in kept}
        added = [r for r in new if (r.get("source"), r.get("start"), r.get("end")) not in present]
        for row in added:
            header += [k for k in row if k not in header]
        atomic_write_text(plan, _csv_text([*kept, *added], header, dialect, with_header=True))
    return len(added)


def _csv_text(
    rows: list[dict[str, str]],
    columns: Sequence[str],
    dialect: type[csv.Dialect] = csv.excel,
    with_header: bool = False,
) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), dialect=dialect,
                            lineterminator="\n", extrasaction="ignore")  # fmt: skip
    if with_header:
        writer.writeheader()
    # a lone CR inside a cell is not quoted by Python's writer with "\n" lines: one line break
    writer.writerows([{k: neutralise(_lf(str(v))) for k, v in r.items()} for r in rows])
    return out.getvalue()


def rows_csv(rows: list[dict[str, str]], columns: Sequence[str] = COLUMNS[:6]) -> str:
    """Rows as CSV lines (no header) in `columns` order, to paste into a spreadsheet plan."""
    return _csv_text(rows, columns)
