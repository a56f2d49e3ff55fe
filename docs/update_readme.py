"""Regenerate what comes from the code: the README sections (report catalog, parameters, the
known limits of report data) and docs/procore_fidelity.md (every request against Procore's reference).

    python docs/update_readme.py          # rewrite README.md and docs/procore_fidelity.md in place
    python docs/update_readme.py --check  # exit 1 if either is out of date (tests/test_readme.py)
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from procore_xl.fidelity import fidelity_markdown, limits_markdown
from procore_xl.parameter_docs import catalog_markdown, parameters_markdown

README = Path(__file__).resolve().parent.parent / "README.md"
FIDELITY = README.parent / "docs" / "procore_fidelity.md"
SECTIONS = {"catalog": catalog_markdown, "parameters": parameters_markdown, "limits": limits_markdown}


def render(text: str) -> str:
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no <!-- {name}:begin --> ... <!-- {name}:end --> block")
        text = pattern.sub(lambda m: m.group(1) + make() + m.group(2), text)
    return text


def main(argv: list[str]) -> int:
    current = README.read_text(encoding="utf-8")
    fresh = render(current)
    fidelity = fidelity_markdown()
    if "--check" in argv:
        stale = fresh != current or not FIDELITY.exists() or FIDELITY.read_text(encoding="utf-8") != fidelity
        return 1 if stale else 0
    README.write_text(fresh, encoding="utf-8")
    FIDELITY.write_text(fidelity, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
