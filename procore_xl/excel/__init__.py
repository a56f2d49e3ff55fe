"""Report sheets in Excel workbooks, written once for every writer.

Modules (one idea each):

* ``layout``          sheet names, workbook names, Start-sheet cells (shared with the workbook build)
* ``base``            ``WorkbookWriter`` protocol: the dozen operations the logic needs (1-based rows/cols)
* ``ooxml/``          the package itself, one module per part: ``workbook.PackageWorkbook(path)`` (a file
                      refreshed by splicing, only report parts rewritten), ``sheet``/``sheet_data`` (worksheet
                      XML, report tables streamed in blocks), ``table``, ``styles``, ``part_reader``,
                      ``relationships`` (rels and content types), ``container`` (the zip), ``charts``, ``xml``
* ``openpyxl_writer`` ``OpenpyxlWorkbook(openpyxl.Workbook)``: new workbooks' skeletons (sheets, names,
                      dropdowns); the reference the streaming writer is compared with in tests
* ``values``          DataFrame -> typed table columns and cell values (dates, numbers, money and
                      percent formats, ids > 2**53 as text, Excel's limits)
* ``report_sheet``    metadata block + parameter cells + table; ``create_report_sheet``,
                      ``refresh_report_sheet(s)``, ``write_result``, ``write_failure``
* ``registry``        the hidden ``_procore`` sheet: sheet -> report, table, parameters (JSON)
* ``dropdowns``       the hidden ``_lists`` sheet: discovery lists as workbook names
* ``refresh``         ``refresh_workbook(path, service)`` / ``new_workbook(path, reports, service)``:
                      files refreshed atomically, every part but the report's copied unchanged
* ``results``         ``write_runs(target, runs)``: a workbook from runs already made (pull --out x.xlsx)
* ``analysis_layout`` an analysis (``procore_xl.analyses``) laid out as cells, formulas, conditional formats
                      and charts over the report tables as written (``header_for``: field path -> header)
* ``analysis_sheet``  analysis sheets written into a workbook file (sheet, drawing, chart parts, styles)

What runs inside Excel (UDFs, ribbon macros and actions, the xlwings writer, the session) is
``procore_xl.addin``, which imports this package; nothing here imports it or the service.
"""
