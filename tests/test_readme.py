"""The README's catalog and parameter tables are generated from the code, never edited by hand."""
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_tables_match_the_catalog():
    update = runpy.run_path(str(ROOT / "docs" / "update_readme.py"))
    current = (ROOT / "README.md").read_text(encoding="utf-8")
    assert update["render"](current) == current, "run: python docs/update_readme.py"
