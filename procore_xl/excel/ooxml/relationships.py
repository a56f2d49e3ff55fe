"""Relationships (``*.rels``) and content types (``[Content_Types].xml``), edited one way.

Both are read by pattern (:func:`~.xml.attrs`) and edited by splicing: new elements written
with their attributes escaped and put before the closing tag, unwanted ones cut out; the rest of
the part keeps its bytes (no serializer rewrites namespace prefixes or the declaration, and no
process-wide namespace registry is touched). Internal targets are written relative to their
source part, as Excel writes them: ``xl/_rels/workbook.xml.rels`` -> ``worksheets/sheet1.xml``, a
sheet's rels -> ``../tables/table1.xml``, the package's ``_rels/.rels`` -> ``xl/workbook.xml``.
Absolute targets (``/xl/tables/table1.xml``, what openpyxl writes) are valid Open XML, but
exceljs fails on them; :func:`relative_targets` rewrites them (a refresh normalises an older file).
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from .xml import XML_DECLARATION, attrs, escape

REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_CALC_CHAIN = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain"
_RELATIONSHIP = re.compile(r"<Relationship\b[^>]*>")
_TARGET = re.compile(r'(\bTarget=")([^"]*)(")')
_OVERRIDE = re.compile(r"<Override\b[^>]*>")
_DEFAULT = re.compile(r"<Default\b[^>]*>")


def element(name: str, attributes: dict[str, str]) -> str:
    """An empty element ``<name a="v" .../>``, values escaped."""
    return f"<{name}" + "".join(f' {k}="{escape(v)}"' for k, v in attributes.items()) + "/>"


def _add(xml: str, elements: Iterable[str], end_tag: str) -> str:
    return xml.replace(end_tag, "".join(elements) + end_tag, 1)


# -- relationships ---------------------------------------------------------------------------------
def rels_path(part: str) -> str:
    """The relationships part of ``part`` (``xl/workbook.xml`` -> ``xl/_rels/workbook.xml.rels``)."""
    return posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")


def part_path(base: str, target: str) -> str:
    """The package path of ``target`` as written in the relationships of part ``base``."""
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def rels_source_folder(rels_path: str) -> str:
    """The folder of the part whose relationships ``rels_path`` holds (``xl/_rels/workbook.xml.rels``
    -> ``xl``; ``_rels/.rels`` -> the package root, ``""``)."""
    return posixpath.dirname(posixpath.dirname(rels_path))


def relative_target(rels_path: str, part: str) -> str:
    """The target of ``part`` (a package path without the leading slash) as written in ``rels_path``."""
    return posixpath.relpath(part, rels_source_folder(rels_path) or ".")


def relative_targets(rels_path: str, xml: str) -> str:
    """``xml`` (a ``.rels`` part) with every absolute internal target relative to its source
    part's folder; external targets (hyperlinks, linked files) and relative ones as they were."""
    def fix(m: re.Match) -> str:
        tag = m.group(0)
        if 'TargetMode="External"' in tag:
            return tag
        return _TARGET.sub(lambda t: t.group(1) + (relative_target(rels_path, t.group(2)[1:])
                                                   if t.group(2).startswith("/") else t.group(2)) + t.group(3),
                           tag, count=1)
    return _RELATIONSHIP.sub(fix, xml) if 'Target="/' in xml else xml


def relationships(xml: str) -> list[dict[str, str]]:
    """The attributes of each relationship of a ``.rels`` part."""
    return [attrs(m.group(0)) for m in _RELATIONSHIP.finditer(xml)]


def internal_parts(xml: str, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, package path) for the internal relationships of ``part``."""
    return {a["Id"]: (a["Type"], part_path(part, a["Target"]))
            for a in relationships(xml) if a.get("TargetMode") != "External"}


def free_id(taken: Iterable[str], prefix: str = "rIdProcore") -> str:
    """``prefix`` + the first number that makes an id not in ``taken``."""
    taken, n = set(taken), 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def relationship(rid: str, rel_type: str, target: str, **more: str) -> str:
    return element("Relationship", {"Id": rid, "Type": rel_type, "Target": target, **more})


def add_relationships(xml: str, items: Iterable[str]) -> str:
    """``xml`` (a ``.rels`` part; empty: a new one) with the relationship elements ``items`` added."""
    if not xml:
        return f'{XML_DECLARATION}<Relationships xmlns="{REL_NS}">{"".join(items)}</Relationships>'
    return _add(xml, items, "</Relationships>")


def remove_relationships(xml: str, rel_type: str) -> str:
    """``xml`` without its relationships of type ``rel_type``."""
    return _RELATIONSHIP.sub(lambda m: "" if attrs(m.group(0)).get("Type") == rel_type else m.group(0), xml)


# -- content types ---------------------------------------------------------------------------------
def override(part: str, content_type: str) -> str:
    """The content type of one part (a package path without the leading slash)."""
    return element("Override", {"PartName": f"/{part}", "ContentType": content_type})


def add_types(xml: str, items: Iterable[str]) -> str:
    """``[Content_Types].xml`` with the ``Override``/``Default`` elements ``items`` added."""
    return _add(xml, items, "</Types>")


def remove_overrides(xml: str, parts: Iterable[str]) -> str:
    """``[Content_Types].xml`` without the overrides of ``parts``."""
    names = {f"/{p}" for p in parts}
    return _OVERRIDE.sub(lambda m: "" if attrs(m.group(0)).get("PartName") in names else m.group(0), xml)


def defaults(xml: str) -> list[dict[str, str]]:
    """The attributes of each ``Default`` (content type by extension) of ``[Content_Types].xml``."""
    return [attrs(m.group(0)) for m in _DEFAULT.finditer(xml)]
