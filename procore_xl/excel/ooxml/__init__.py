"""The workbook package (``.xlsx``/``.xlsm``: a zip of XML parts), one module per part or idea.

* ``xml``           the XML helpers: attributes and text read by pattern, values escaped, Excel's
                    ``_xHHHH_`` text escapes
* ``container``     the zip as Excel writes it: ZIP64 only where needed, one deflate level
* ``relationships`` ``.rels`` parts and ``[Content_Types].xml``, edited one way (spliced, targets relative)
* ``styles``        ``xl/styles.xml``: cell formats read, new ones (number format, bold) added
* ``part_reader``   a worksheet part read a chunk at a time (head, rows, tail)
* ``sheet``         a worksheet part being changed: rows parsed where touched, head and tail edited
* ``sheet_data``    sheetData written directly: report tables streamed column by column, in blocks
* ``table``         table parts: read, and written for a new range and header
* ``charts``        DrawingML chart and drawing parts
* ``workbook``      ``PackageWorkbook(path)``: a file refreshed by splicing (only report parts rewritten)

Above the package: ``excel.base`` (the writer protocol, cell ranges) and ``excel.values`` (typed table
columns); nothing here imports the report-sheet modules of ``excel``.
"""
