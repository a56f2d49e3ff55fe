"""pyproject.toml in the current packaging form: setuptools warns at every install otherwise."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.licenses import canonicalize_license_expression
from packaging.requirements import Requirement

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))


def test_license_is_an_spdx_expression_not_the_deprecated_table():
    license_ = PYPROJECT["project"]["license"]
    assert isinstance(license_, str), "the `license = {text = ...}` table is deprecated (PEP 639)"
    assert canonicalize_license_expression(license_) == license_
    assert not any(c.startswith("License ::") for c in PYPROJECT["project"].get("classifiers", []))


def test_the_build_backend_understands_spdx_license_expressions():
    setuptools = next(Requirement(r) for r in PYPROJECT["build-system"]["requires"]
                      if Requirement(r).name == "setuptools")
    lowest = min(tuple(map(int, re.findall(r"\d+", s.version)[:1])) for s in setuptools.specifier
                 if s.operator in (">=", "=="))
    assert lowest >= (77,), "setuptools reads an SPDX `license` string from version 77 on"
