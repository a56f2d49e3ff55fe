"""RunPython entry points behind the Procore ribbon buttons.

Each takes no arguments, works on ``xw.Book.caller()`` and is a thin shell over
``procore_xl.addin.actions`` (which tests run on files and on a fake xlwings book). A problem
the person can act on is shown in a message box (``app.alert``) and never raised into VBA.
The workbook build generates one VBA macro per entry of ``MACROS``:
``RunPython "import procore_xl.addin.macros as m; m.<name>()"``
(``procore_xl.macros`` re-exports them for workbooks built before).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import xlwings as xw

from ..errors import ProcoreError, SignedOutError
from ..excel.report_sheet import safe_message
from . import actions
from .xlwings_writer import XlwingsWorkbook


def _run(action: Callable[[XlwingsWorkbook], Any], *, quiet: bool = False) -> Any:
    """Run ``action`` on the calling workbook; ``quiet``: with screen updating, automatic
    calculation and events off while it writes (restored whatever happens)."""
    wb = XlwingsWorkbook(xw.Book.caller())
    try:
        if quiet:
            with wb.quiet():
                message = action(wb)
        else:
            message = action(wb)
    except SignedOutError:
        wb.alert("Not signed in to Procore - use Procore > Connect")
        return None
    except ProcoreError as exc:
        wb.alert(str(exc))
        return None
    except Exception as exc:          # shown, not raised: VBA would show a traceback window
        wb.alert(f"Procore: unexpected error - {safe_message(exc)}")
        return None
    if isinstance(message, str):
        wb.alert(message)
    return message


def connect():
    """Sign in to Procore (browser), then update the dropdown lists."""
    return _run(lambda wb: actions.connect(wb, actions.workbook_service(wb)))


def sign_out():
    """Revoke and forget the stored sign-in."""
    return _run(lambda wb: actions.sign_out(wb, actions.workbook_service(wb)))


def choose_environment():
    """Apply the environment picked in the workbook (name ProcoreEnvironment on the Start sheet)."""
    return _run(actions.choose_environment)


def insert_report():
    """Create a sheet for the report picked on the Start sheet and fill it."""
    return _run(lambda wb: actions.insert_report(wb, actions.workbook_service(wb)) and None, quiet=True)


def insert_analysis():
    """Add the analysis picked on the Start sheet, with the report sheets it reads."""
    return _run(lambda wb: actions.insert_analysis(wb, actions.workbook_service(wb)) and None, quiet=True)


def refresh_sheet():
    """Refresh the active report sheet."""
    return _run(lambda wb: actions.refresh_sheet(wb, actions.workbook_service(wb)) and None, quiet=True)


def refresh_sheet_full():
    """Refresh the active report sheet with every record fetched again (not only what changed)."""
    def act(wb):
        service = actions.workbook_service(wb)
        with service.full_refresh():
            return actions.refresh_sheet(wb, service) and None
    return _run(act, quiet=True)


def refresh_all():
    """Refresh every report sheet listed in the _procore registry."""
    return _run(lambda wb: actions.summary(*actions.refresh_all(wb, actions.workbook_service(wb))), quiet=True)


def update_dropdowns():
    """Refresh the discovery lists behind the dropdowns (_lists sheet)."""
    def act(wb):
        notes = actions.update_dropdowns(wb, actions.workbook_service(wb))
        return None if not notes else "Some lists are empty: " + "; ".join(notes)[:500]
    return _run(act)


MACROS = [connect, sign_out, choose_environment, insert_report, insert_analysis, refresh_sheet, refresh_sheet_full, refresh_all,
          update_dropdowns]
