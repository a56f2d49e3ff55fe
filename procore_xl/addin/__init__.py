"""Everything that runs inside Excel: the xlwings add-in surface over ``procore_xl.service``.

Modules (one idea each):

* ``udfs``            worksheet functions (``=PROCORE_REPORT`` etc.) with their result cache;
                      the workbook's xlwings settings name this module ("UDF Modules")
* ``macros``          RunPython entry points behind the ribbon buttons (``xw.Book.caller()``)
* ``actions``         what each ribbon button does, on any ``WorkbookWriter`` (live Excel, a file,
                      a test fake); ``macros`` wraps them
* ``session``         the one ``ProcoreService`` of an Excel process (UDFs + macros)
* ``xlwings_writer``  ``XlwingsWorkbook(xw.Book)``: the ``WorkbookWriter`` over live Excel; free xlwings API only
* ``analysis_live``   an analysis sheet written into live Excel through xlwings (Insert analysis)

Imports go down only: this package uses ``service`` and ``excel/``; nothing below imports it.
``procore_xl.udfs`` and ``procore_xl.macros`` stay as faces for workbooks built before this package.
"""
