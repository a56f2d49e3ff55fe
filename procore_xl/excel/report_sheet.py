"""One report sheet: metadata block, parameter cells, data table. Written once, for any writer.

Layout (rows are 1-based)::

    1  Report       | RFIs
    2  Status       | OK / Failed
    3  Refreshed    | 2024-05-31 14:02:11   (local time of the last successful refresh)
    4  Duration (s) | 1.42
    5  Rows         | 120
    6  Requests     | 3
    7  Message      | warnings, or why the last refresh failed
    8  Company      | Harbor Tower Builders      <- one row per parameter, with a dropdown
    9  ...
    ...  Columns    | default / all                <- the two display options, last parameters
    ...  Headers    | labels / fields
    21  Number | Subject | Status | ...           <- Excel table "tbl_<sheet>" at TABLE_HEADER_ROW on
                                                     every sheet; rows frozen above

The table shows the report through ``view.view``: labels or field names, the default columns
or all. A sheet registered before the display options existed (no Columns/Headers rows) keeps
its field-name headers, every column and its table's place: formulas that name its columns
keep working; inserting the report again gives the new layout.

A refresh that fails leaves the table as it was and says so in Status/Message.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from ..catalog import find_report
from ..errors import ProcoreError
from ..parameters import PROJECT_FILTERS, SPECS, as_date, sub_report_choices
from .base import WorkbookWriter, range_ref
from .dropdowns import ensure_lists, repair_lists
from ..columns import COLUMNS_ALL, COLUMNS_DEFAULT, HEADERS_FIELDS, HEADERS_LABELS
from ..parameters import VIEW_PARAMS
from ..shown import Shown
from ..view import report_view
from .layout import (LIST_NAMES, LISTS_SHEET, META_FIRST_ROW, REGISTRY_SHEET, START_SHEET, TABLE_HEADER_GAP,
                     TABLE_HEADER_ROW)
from .registry import Entry, follow_renamed_sheets, save_entry
from .streamed import StreamedTable, empty_table, streamed_table
from .plans import table_data
from .values import DATE_FORMAT, DATETIME_FORMAT, TableData

EXCEL_MAX_ROWS = 1_048_576
SHEET_NAME_MAX = 31
META_LABELS = ["Report", "Status", "Refreshed", "Duration (s)", "Rows", "Requests", "Message"]
META_ROWS = {label: META_FIRST_ROW + i for i, label in enumerate(META_LABELS)}   # label -> sheet row
ROW_REPORT, ROW_STATUS, ROW_REFRESHED, ROW_DURATION, ROW_ROWS, ROW_REQUESTS, ROW_MESSAGE = (
    META_ROWS[label] for label in META_LABELS)
PARAM_FIRST_ROW = META_FIRST_ROW + len(META_LABELS)
STATUS_OK, STATUS_FAILED, STATUS_NEW = "OK", "Failed", "Not refreshed yet"
RATE_LIMIT_PREFIX = "Procore rate limit: "   # the Message part that shows the budget left (not a warning)
RESERVED_SHEETS = {START_SHEET.lower(), LISTS_SHEET.lower(), REGISTRY_SHEET.lower(), "history"}
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MESSAGE_MAX = 1000
LITERAL_LIST_MAX = 255           # Excel's limit for a list validation typed as "a,b,c"
_ELLIPSIS = "\u2026"


# -- names ---------------------------------------------------------------------------------------
def sheet_name_for(report: str, existing: list[str]) -> str:
    """A legal, unused sheet name for ``report``: forbidden characters replaced, at most 31
    characters, ``RFIs (2)`` when ``RFIs`` is taken (case-insensitive, like Excel). A name too
    long first loses its parentheses ("Prime Contract Payment Received"), then is shortened at
    a word boundary with "…" (see :func:`_fit`)."""
    base = _FORBIDDEN.sub("-", report).strip().strip("'") or "Report"
    taken = {s.lower() for s in existing} | RESERVED_SHEETS
    name, n = _fit(base, SHEET_NAME_MAX), 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name = _fit(base, SHEET_NAME_MAX - len(suffix)) + suffix
        n += 1
    return name


def _fit(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: as is; else without parentheses; else cut at
    the last word boundary that leaves room for "…" (mid-word only for one long word)."""
    if len(text) <= limit:
        return text.rstrip("'")
    plain = " ".join(re.sub(r"[()]", " ", text).split())
    if len(plain) <= limit:
        return plain.rstrip("'")
    room = limit - len(_ELLIPSIS)
    cut = plain[: room + 1]
    head = cut[: cut.rfind(" ")] if " " in cut else plain[:room]
    head = head.rstrip(" -,;&'") or plain[:room].rstrip("'")
    return head + _ELLIPSIS


def table_name_for(sheet: str, existing: list[str]) -> str:
    """``tbl_`` + the sheet name reduced to letters, digits and ``_`` (unique in the workbook)."""
    core = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", sheet)).strip("_") or "Report"
    base = f"tbl_{core}"[:250]
    taken = {t.lower() for t in existing}
    name, n = base, 2
    while name.lower() in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def header_row(entry: Entry) -> int:
    """The table's header row: TABLE_HEADER_ROW on every sheet (lower only if a sheet had more
    parameters than any report takes); a sheet made before the display options keeps the row
    under its parameters it always had."""
    below = PARAM_FIRST_ROW + len(entry.params) + TABLE_HEADER_GAP
    return below if is_legacy(entry) else max(TABLE_HEADER_ROW, below)


def is_legacy(entry: Entry) -> bool:
    """A sheet registered before the display options (Columns, Headers) existed."""
    return not any(k in entry.params for k in VIEW_PARAMS)


def view_options(entry: Entry) -> tuple[str, str]:
    """(headers, columns) of a sheet: its cells, else labels and the default columns; a legacy
    sheet keeps field names and every column (see the module doc)."""
    if is_legacy(entry):
        return HEADERS_FIELDS, COLUMNS_ALL
    h = str(entry.params.get("headers") or HEADERS_LABELS).strip().lower()
    c = str(entry.params.get("columns") or COLUMNS_DEFAULT).strip().lower()
    return h, c


def safe_message(exc: BaseException) -> str:
    """One line for a cell. Our errors are written to be shown; anything else gets its type and
    first line, with anything that looks like a credential removed."""
    text = str(exc) if isinstance(exc, ProcoreError) else f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    text = re.sub(r"(?i)\b(access_token|refresh_token|client_secret|code|token|password|authorization)"
                  r"(\s*[=:]\s*)(bearer\s+)?[^\s&,;'\"]+", r"\1\2***", text)
    return text[:_MESSAGE_MAX]


# -- creating and reading a sheet -------------------------------------------------------------
def create_report_sheet(wb: WorkbookWriter, report: str, params: Mapping[str, Any] | None = None) -> Entry:
    """Add a sheet for ``report`` (canonical name, unique sheet name), register it in
    ``_procore`` and write the metadata labels and parameter cells. No data yet."""
    rep = find_report(report)
    given = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    sheet = sheet_name_for(rep.name, wb.sheet_names())
    keys = list(rep.parameters) + list(VIEW_PARAMS)
    given = {"columns": COLUMNS_DEFAULT, "headers": HEADERS_LABELS, **given}
    extra = [k for k in given if k not in keys]
    entry = Entry(sheet=sheet, report=rep.name, table=table_name_for(sheet, wb.table_names()),
                  params={k: given.get(k) for k in keys + extra})
    ensure_lists(wb)
    wb.add_sheet(sheet)
    wb.write(sheet, META_FIRST_ROW, 1, [[label] for label in META_LABELS])
    wb.write(sheet, ROW_REPORT, 2, [[rep.name], [STATUS_NEW]])
    write_parameters(wb, entry)
    wb.set_bold(sheet, (META_FIRST_ROW, 1, PARAM_FIRST_ROW + len(entry.params) - 1, 1))
    save_entry(wb, entry)
    return entry


def write_parameters(wb: WorkbookWriter, entry: Entry) -> None:
    """Label + value per parameter; a dropdown where a discovery list exists, the report's own
    choices where the parameter has fixed ones (Sub Report, Project Filter)."""
    rows = []
    for i, key in enumerate(entry.params):
        rows.append([param_label(key)])
        source = validation_source(entry.report, key)
        if source is not None:
            wb.set_list_validation(entry.sheet, PARAM_FIRST_ROW + i, 2, source)
    if rows:
        wb.write(entry.sheet, PARAM_FIRST_ROW, 1, rows)
        write_parameter_values(wb, entry)


def validation_source(report: str, key: str) -> str | list[str] | None:
    """What a parameter cell's dropdown lists: a workbook name over a discovery list on
    ``_lists`` (companies, projects...), the literal choices of a fixed parameter (this report's
    sub reports, the project filters), or None (typed values; or choices too long to list)."""
    if key == "sub_report":
        return literal_list(sub_report_choices(find_report(report)))
    if key == "project_filter":
        return literal_list(PROJECT_FILTERS)
    spec = SPECS.get(key)
    if spec is not None and spec.kind == "fixed" and spec.choices:
        return literal_list(spec.choices)
    if spec is not None and spec.list_name in LIST_NAMES:
        return LIST_NAMES[spec.list_name]
    return None


def literal_list(choices) -> list[str] | None:
    """``choices`` as a literal list validation, or None when Excel cannot take them as one
    (a comma or semicolon inside a choice, more than 255 characters in all, no choices)."""
    values = [str(c) for c in choices]
    if not values or any("," in v or ";" in v or '"' in v for v in values):
        return None
    return values if len(",".join(values)) <= LITERAL_LIST_MAX else None


def write_parameter_values(wb: WorkbookWriter, entry: Entry) -> None:
    """The parameter cells (column B) from ``entry.params``: dates as real dates."""
    for i, (key, value) in enumerate(entry.params.items()):
        cell, fmt = parameter_cell(key, value)
        wb.write(entry.sheet, PARAM_FIRST_ROW + i, 2, [[cell]], [fmt])


def parameter_cell(key: str, value: Any) -> tuple[Any, str | None]:
    """A parameter value as it goes into its cell, with its number format: a date parameter
    given as a date ("2026-11-01", a date, a datetime, an Excel serial) becomes a real date
    shown as yyyy-mm-dd; anything else (a "days back" number, a name, an id) stays as it is."""
    spec = SPECS.get(key)
    if spec is None or spec.kind != "date" or value is None or isinstance(value, bool):
        return value, None
    try:
        return as_date(key, value), DATE_FORMAT
    except ProcoreError:            # not a date (yet): shown as typed; the run says what is wrong
        return value, None


def read_parameters(wb: WorkbookWriter, entry: Entry) -> dict[str, Any]:
    """The parameter values as they are in the sheet now (the person may have changed them).
    A registry row whose parameters no longer read (typed over, cut short) takes their names
    from the sheet's labels (:func:`_keys_from_labels`): the run saves them whole again."""
    if entry.damaged:
        entry.params, entry.damaged = dict.fromkeys(_keys_from_labels(wb, entry.sheet)), False
    if not entry.params:
        return {}
    cells = wb.read(entry.sheet, PARAM_FIRST_ROW, 2, len(entry.params), 1)
    return {k: normalize_input(row[0]) for k, row in zip(entry.params, cells) if normalize_input(row[0]) is not None}


def moved_block(wb: WorkbookWriter, entry: Entry) -> str:
    """"" when column A shows the labels where they were written (A1 down); else why the sheet is not
    refreshed (moved cells bind to wrong names, Status/Message land in the person's cells). Reads the
    rows above the table only (the old table is read after the run)."""
    expected = [*META_LABELS, *([] if entry.damaged else [param_label(k) for k in entry.params])]
    seen = [str(v).strip().lower() if v is not None else "" for (v,) in
            wb.read(entry.sheet, META_FIRST_ROW, 1, max(header_row(entry) - META_FIRST_ROW, len(expected)), 1)]
    if seen[:len(expected)] == [label.lower() for label in expected]:
        return ""
    first = [label.lower() for label in META_LABELS[:2]]
    at = next((i + META_FIRST_ROW for i in range(len(seen)) if seen[i:i + 2] == first), None)
    where = (f"its labels now start in A{at} instead of A{META_FIRST_ROW}" if at is not None and at != META_FIRST_ROW
             else "its labels in column A are not where they were written")
    return (f'Sheet "{entry.sheet}" was not refreshed: its parameter block was moved or changed (rows inserted or '
            f"deleted above or inside it; {where}) - undo that change (the block starts in A{META_FIRST_ROW}: Report, "
            f"Status, ... then one row per parameter) or insert the report again. Nothing was written to the sheet.")


def param_label(key: str) -> str:
    """The label column A shows for a parameter."""
    return str(SPECS[key].label if key in SPECS else key)


def _keys_from_labels(wb: WorkbookWriter, sheet: str) -> list[str]:
    """The parameter names a sheet's label cells (column A from the first parameter row) show,
    up to the first that names none."""
    by_label = {str(SPECS[k].label if k in SPECS else k).lower(): k for k in SPECS}
    keys = []
    for (label,) in wb.read(sheet, PARAM_FIRST_ROW, 1, TABLE_HEADER_ROW - PARAM_FIRST_ROW, 1):
        key = by_label.get(str(label).strip().lower()) if label else None
        if key is None or key in keys:
            break
        keys.append(key)
    return keys


def normalize_input(value: Any) -> Any:
    """A value read from a cell -> what the service expects: whole floats become ints
    (Excel's 91001.0), midnight datetimes become ISO dates, blanks become None."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


# -- writing results ----------------------------------------------------------------------------
def write_meta(wb: WorkbookWriter, sheet: str, values: Mapping[str, Any]) -> None:
    """Metadata cells by label (``{"Status": "OK", "Refreshed": (now, DATETIME_FORMAT)}``): a
    value, or (value, number format). One more metadata row is one more label in META_LABELS."""
    for label, value in values.items():
        value, fmt = value if isinstance(value, tuple) else (value, None)
        wb.write(sheet, META_ROWS[label], 2, [[value]], [fmt])


def write_failure(wb: WorkbookWriter, entry: Entry, message: str) -> None:
    """Status Failed + the reason; the table and the figures of the last good refresh stay."""
    now = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    has_table = wb.table_rect(entry.sheet, entry.table) is not None
    message = message.strip()
    if has_table:
        stop = "" if message.endswith((".", "!", "?")) else "."
        message = f"{message}{stop} The table below is from the last successful refresh."
    write_meta(wb, entry.sheet, {"Status": STATUS_FAILED,
                                 "Message": f"Refresh failed at {now}: {message}"[:_MESSAGE_MAX]})


def _bounds(cells: list[tuple[int, int]]) -> tuple[int, int, int, int]:
    rows, cols = [r for r, _ in cells], [c for _, c in cells]
    return min(rows), min(cols), max(rows), max(cols)


def _growth(rect, old) -> list[tuple[int, int, int, int]]:
    """The parts of the new table area ``rect`` that the old table ``old`` did not cover."""
    if old is None or old[:2] != rect[:2]:
        return [rect]
    r1, c1, r2, c2 = rect
    parts = []
    if r2 > old[2]:
        parts.append((old[2] + 1, c1, r2, c2))
    if c2 > old[3]:
        parts.append((r1, old[3] + 1, min(r2, old[2]), c2))
    return parts


def _outside(cells: list[tuple[int, int]], rect) -> list[tuple[int, int]]:
    if rect is None:
        return cells
    r1, c1, r2, c2 = rect
    return [(r, c) for r, c in cells if not (r1 <= r <= r2 and c1 <= c <= c2)]


def write_result(wb: WorkbookWriter, entry: Entry, result: Any) -> bool:
    """Write a ReportResult into the sheet. False (and Status Failed, previous data kept) when
    it cannot fit: too many rows or columns, or the table would grow over the person's own
    cells. Calculated columns the person added to the table are kept and refilled on every
    row. What the sheet could not keep as sent (text cut, control characters) is added to
    ``result.warnings`` and the Message cell."""
    headers, columns = view_options(entry)
    old = wb.table_rect(entry.sheet, entry.table)
    old_columns = wb.table_columns(entry.sheet, entry.table) if old else []
    data = _sheet_table(wb, result, headers, columns, [n for n, _ in old_columns])
    top = header_row(entry)
    room = EXCEL_MAX_ROWS - top
    if data.nrows > room:
        write_failure(wb, entry, f"{data.nrows:,} rows do not fit in a sheet ({room:,} rows below the "
                                 f"header) - narrow the parameters (one project, a shorter date range) "
                                 f"or export with `procore-xl pull ... --out file.csv`")
        return False
    if data.width > 16_384:
        write_failure(wb, entry, f"{data.width:,} columns do not fit in a sheet (16,384) - "
                                 f"choose a sub report or export with the CLI")
        return False
    names = {h.lower() for h in data.header}
    calculated = [(n, f) for n, f in old_columns if f and n.lower() not in names]
    width = max(data.width, 1) + len(calculated)
    rect = (top, 1, top + max(data.nrows, 1), width)
    theirs = _outside([cell for part in _growth(rect, old) for cell in wb.occupied(entry.sheet, part)], old)
    if theirs:
        gone = (f"its table {entry.table} is no longer in the sheet (converted to a range or deleted) and "
                if old is None and entry.table else "")      # the cells in the way are then its own last data
        write_failure(wb, entry, f"{gone}the table needs {range_ref(rect)} but {range_ref(_bounds(theirs))} holds "
                                 f"other cells - move them out of the way and refresh again")
        return False
    if old is not None and old[:2] != (top, 1):       # the parameter block changed size
        wb.remove_table(entry.sheet, entry.table)
    elif old is not None:
        wb.clear(entry.sheet, old)
    wb.write_table(entry.sheet, top, data, calculated)
    wb.set_table(entry.sheet, entry.table, rect)

    kept = data.notes()
    if isinstance(getattr(result, "warnings", None), list):
        result.warnings.extend(n for n in kept if n not in result.warnings)
    refresh = [f"Refresh: {result.refresh}"] if getattr(result, "refresh", "") else []
    if getattr(result, "rate_limit", ""):
        refresh.append(f"{RATE_LIMIT_PREFIX}{result.rate_limit}")
    notes = list(dict.fromkeys([*refresh, *(result.warnings or []), *kept]))
    now = dt.datetime.now().replace(microsecond=0)
    write_meta(wb, entry.sheet, {
        "Report": result.report, "Status": STATUS_OK, "Refreshed": (now, DATETIME_FORMAT),
        "Duration (s)": round(float(result.seconds), 2), "Rows": data.nrows, "Requests": int(result.requests),
        "Message": "; ".join(notes)[:_MESSAGE_MAX] or None})
    wb.freeze_rows(entry.sheet, top)
    wb.set_column_widths(entry.sheet, _widths(data, entry))
    return True


def _sheet_table(wb: WorkbookWriter, result: Any, headers: str, columns: str,
                 keep: list[str]) -> TableData | StreamedTable:
    """The report's table as the sheet writes it: for a writer that writes a sheet as it saves
    it (``streams_tables``: the workbook file's), read block by block and never whole
    (:mod:`.streamed`); for the others, the view's frame made once (never the report's whole frame); no
    record: the report's default columns (:func:`.streamed.empty_table`)."""
    if (empty := empty_table(result, headers)) is not None:
        return empty
    if getattr(wb, "streams_tables", False):
        data = streamed_table(Shown(result.table, result.report, result.params.get("sub_report"),
                                    headers=headers, columns=columns, keep=keep))
        if data is not None:
            return data
    shown = report_view(result, headers=headers, columns=columns, params={}, keep=keep, stream=True)
    return table_data(shown.frame, shown.header)


def _widths(data: TableData | StreamedTable, entry: Entry) -> dict[int, float]:
    """Column widths from the header and the first 200 rows, between 8 and 60 characters."""
    header, rows = data.header or ["(no columns)"], data.rows(0, 200)
    widths: dict[int, float] = {}
    for c, name in enumerate(header):
        sample = [len(_shown(r[c])) + _NUMBER_ROOM * _is_number(r[c]) for r in rows[:200] if c < len(r)]
        widths[c + 1] = float(min(max([len(name) + 2, *sample, 8]), 60))
    labels = [*META_LABELS, *(SPECS[k].label if k in SPECS else k for k in entry.params)]
    widths[1] = max(widths.get(1, 8.0), float(min(max(len(s) for s in labels) + 2, 60)))
    widths[2] = max(widths.get(2, 8.0), 22.0)
    return widths


_NUMBER_ROOM = 2        # a number needs a little more than its digits, else Excel shows ########


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _shown(v: Any) -> str:
    if isinstance(v, dt.datetime):
        return "2024-01-01 00:00:00"
    if isinstance(v, dt.date):
        return "2024-01-01"
    if isinstance(v, float):
        return f"{v:.2f}"
    return "" if v is None else str(v)


def refresh_report_sheet(wb: WorkbookWriter, entry: Entry, service: Any) -> bool:
    """Run the sheet's report with the parameters now in its cells and write the result.
    Any failure is recorded on the sheet (never raised); returns True on success. A sheet whose
    parameter block was moved (:func:`moved_block`) is left untouched: ``entry.problem`` and an
    alert (live Excel) say why."""
    entry.problem = moved_block(wb, entry)
    if entry.problem:
        wb.alert(entry.problem)
        return False
    params = read_parameters(wb, entry)
    try:
        result = service.run(entry.report, params)
    except Exception as exc:                       # recorded in the sheet, table kept
        write_failure(wb, entry, safe_message(exc))
        return False
    return record_run(wb, entry, params, result)


def refresh_report_sheets(wb: WorkbookWriter, service: Any, on_sheet: Callable[[Entry, bool], None] | None = None,
                          *, forget: Callable[[], None] | None = None) -> tuple[list[str], list[str]]:
    """Refresh every registered report sheet; returns (refreshed, failed) sheet names. A sheet
    that failed says why in its Status/Message and keeps its previous table. A renamed report
    sheet is followed; a deleted one is forgotten (with a note in the status bar). ``forget`` is
    called once the service's caches are dropped (the add-in clears its UDF results there)."""
    entries, forgotten = follow_renamed_sheets(wb)
    if entries:                      # _lists deleted: made again, so the dropdowns' names point somewhere
        repair_lists(wb)
    if forgotten:
        wb.status(f"Procore: {', '.join(forgotten)} no longer in the workbook - forgotten")
    service.invalidate()
    if forget:
        forget()
    ok, failed = [], []
    try:
        with service.sharing():      # a call several reports make is made once per refresh
            for i, entry in enumerate(entries, start=1):
                wb.status(f"Procore: refreshing {entry.sheet} ({i} of {len(entries)})...")
                good = refresh_report_sheet(wb, entry, service)
                (ok if good else failed).append(entry.sheet)
                if on_sheet:
                    on_sheet(entry, good)
    finally:
        wb.status(None)
    return ok, failed


def record_run(wb: WorkbookWriter, entry: Entry, given: Mapping[str, Any], result: Any) -> bool:
    """A finished run on its sheet: the parameter cells as they read after the run (see
    :func:`_cell_after_run`), the registry row, then the result (:func:`write_result`). The one
    way a run is recorded, whether it was made by a refresh or before (``procore-xl pull``)."""
    given = {k: normalize_input(v) for k, v in given.items()}
    entry.params = {k: _cell_after_run(k, given.get(k), result.params) for k in entry.params}
    if not is_legacy(entry):                   # the display options that applied, as the cells show them
        headers, columns = view_options(entry)
        entry.params.update({k: v for k, v in (("headers", headers), ("columns", columns)) if k in entry.params})
    write_parameter_values(wb, entry)
    save_entry(wb, entry)
    return write_result(wb, entry, result)


def _cell_after_run(key: str, given: Any, resolved: Mapping[str, Any]) -> Any:
    """What a parameter cell shows after a run: the label of a picked list entry (company
    "8001" -> "Harbor Tower Builders"), numbers as numbers, and the defaults that applied; dates
    stay the dates the person gave (a resolved "10 days back" must not become a fixed date) and
    are written as real dates by :func:`parameter_cell`."""
    spec = SPECS.get(key)
    if spec is None or spec.kind not in ("list", "fixed", "int") or resolved.get(key) is None:
        return given
    return resolved[key]

