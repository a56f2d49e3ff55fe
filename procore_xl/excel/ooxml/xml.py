"""The XML helpers every package part uses: attributes and text read from tags without a parser
(a sheet part of 100,000 rows is read a chunk at a time, never parsed whole), text and attribute
values escaped for writing, and Excel's ``_xHHHH_`` escapes in cell text and table column names.

Reading is by pattern, writing by splicing new elements into the text as it was: a part procore-xl
changes keeps every byte it does not change (namespace prefixes, declarations, markup the schema
allows that a serializer would rewrite).
"""
from __future__ import annotations

import re
from xml.sax.saxutils import unescape

from openpyxl.utils import column_index_from_string

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_ENTITIES = {"&quot;": '"', "&apos;": "'", "&#13;": "\r", "&#10;": "\n", "&#9;": "\t"}
_ATTR = re.compile(r'([\w:]+)="([^"]*)"')
_CHAR_REF = re.compile(r"&#(x[0-9A-Fa-f]+|[0-9]+);")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;", '"': "&quot;"})


def attrs(tag: str) -> dict[str, str]:
    """The attributes of a start tag (or its inside), values read as text."""
    return {k: xml_text(v) for k, v in _ATTR.findall(tag)}


def xml_text(text: str) -> str:
    """Element text or attribute value -> str (entities and character references)."""
    if "&" not in text:
        return text
    text = _CHAR_REF.sub(lambda m: chr(int(m.group(1)[1:], 16) if m.group(1)[0] == "x" else int(m.group(1))),
                         text.replace("&amp;", "&\x00"))
    return unescape(text, _ENTITIES).replace("&\x00", "&")


def col_of(ref_letters: str) -> int:
    """``"AB"`` -> 28."""
    return column_index_from_string(ref_letters)


def escape(text: str) -> str:
    """XML text for element content and attribute values (a CR is kept as ``&#13;``: an XML
    reader would turn a raw one into a line feed)."""
    return text.translate(_ESCAPES)


# Excel reads ``_xHHHH_`` in a cell's text, a shared string or a table column name as the
# character U+HHHH ("_x0041_" shows as "A"); a literal one is written with its underscore
# escaped, ``_x005F_x0041_``, as Excel, openpyxl and XlsxWriter write it.
_X_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")     # each underscore that starts one, overlapping too
_X_SEQUENCE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def escape_text(text: str) -> str:
    """XML for a text Excel shows as it is: :func:`escape`, and every ``_xHHHH_`` kept literal."""
    if "_x" in text:
        text = _X_ESCAPE.sub("_x005F_", text)
    return text.translate(_ESCAPES)


def keep_literal(text: str) -> str:
    """``text`` with every ``_xHHHH_`` escaped, for a writer that stores text raw (openpyxl)."""
    return _X_ESCAPE.sub("_x005F_", text) if "_x" in text else text


def unescape_text(text: str) -> str:
    """A cell text or table column name as Excel reads it: ``_xHHHH_`` is the character U+HHHH."""
    return _X_SEQUENCE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def insert_before(xml: str, element: str, later: list[str], end_tag: str) -> str:
    """Put ``element`` before the first of the elements ``later`` (those the schema puts after
    it, in order) found in ``xml``, else before ``end_tag``."""
    for name in later:
        m = re.search(rf"<{name}\b", xml)
        if m:
            return xml[: m.start()] + element + xml[m.start():]
    end = xml.rindex(end_tag)
    return xml[:end] + element + xml[end:]
