"""Report sheets in Excel workbooks, written once for two writers.

Modules (one idea each):

* ``layout``          sheet names, workbook names, Start-sheet cells (shared with the workbook build)
* ``base``            ``WorkbookWriter`` protocol: the dozen operations the logic needs (1-based rows/cols)
* ``openpyxl_writer`` ``OpenpyxlWorkbook(openpyxl.Workbook)``: files (CLI, demo, headless refresh, tests)
* ``xlwings_writer``  ``XlwingsWorkbook(xw.Book)``: live Excel (ribbon macros); free xlwings API only
* ``values``          DataFrame -> cell values (dates, numbers, ids > 2**53 as text, Excel's limits)
* ``report_sheet``    metadata block + parameter cells + table; ``create_report_sheet``,
                      ``refresh_report_sheet``, ``write_result``, ``write_failure``
* ``registry``        the hidden ``_procore`` sheet: sheet -> report, table, parameters (JSON)
* ``dropdowns``       the hidden ``_lists`` sheet: discovery lists as workbook names
* ``actions``         what each ribbon button does, on any writer (``procore_xl.macros`` wraps them)
* ``refresh``         ``refresh_workbook(path, service)`` / ``new_workbook(path, reports, service)``:
                      files refreshed atomically, VBA and ribbon parts kept
* ``session``         the one ``ProcoreService`` of an Excel process (UDFs + macros)
"""
