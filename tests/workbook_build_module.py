"""``workbook/build.py`` is a script, not a package module: the workbook tests load it from here."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_build_module():
    spec = importlib.util.spec_from_file_location("procore_workbook_build", ROOT / "workbook" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
