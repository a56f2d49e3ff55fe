"""The house of procore_xl: every module sits on one floor and imports only from floors below it
(or its own floor), with no import circle; the sandbox stands apart. docs/ARCHITECTURE.md
("Layers") is the prose of LAYERS below.

Imports are read with ``ast`` from the source of every module of procore_xl/ (module-level and
inside functions, absolute and relative, ``import procore_xl.x`` and ``from . import x``): no
module is imported, so what is measured is what the code says.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "procore_xl"

# The map of the house, bottom up. A module belongs to the floor of the longest name listed here
# that is the module itself or a package holding it ("excel" holds excel.refresh and excel.ooxml.*).
# A name no module has yet is allowed: some are being created (fetch, files, addin, excel.ooxml, cli).
LAYERS: dict[str, tuple[str, ...]] = {
    "vocabulary": ("__init__", "errors", "text", "reference", "catalog", "columns", "column_sets"),
    "transport": ("environments", "ratelimit", "tokens", "auth", "loopback", "client", "client_errors", "retries",
                  "api_client", "answers", "spill", "lazy_pandas", "files"),
    "records": ("store", "store_file", "store_writer", "incremental", "deletions", "kept_lists"),
    "reports": ("parameters", "parameter_docs", "discovery", "fetch", "shared_calls", "runner", "flatten", "flatten_page",
                "table", "view", "shown", "fidelity", "analyses", "plan"),
    "outputs": ("output", "excel"),
    "surfaces": ("service", "cli", "addin", "udfs", "macros", "demo", "warehouse", "warehouse_target",
                 "__main__"),
}
# Apart from the floors: the built-in Procore sandbox, which may import only these (and itself).
SANDBOX = "sandbox"
SANDBOX_MAY_IMPORT = ("reference", "errors")

# Modules allowed over MAX_LINES: data, not code.
MAX_LINES = 550
DATA_MODULES = ("catalog", "column_sets", "sandbox.entities")

FLOORS = list(LAYERS)


def module_files() -> dict[str, Path]:
    """Dotted name under procore_xl (``excel.refresh``, ``reference`` for reference/__init__.py) -> file."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = module_files()


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py" and name != "__init__"


def typing_only(tree: ast.Module) -> set[int]:
    """The ids of the import nodes under ``if TYPE_CHECKING:`` (never run: annotations only)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            found |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return found


def imports_of(name: str, *, annotations: bool = True) -> set[str]:
    """The procore_xl modules ``name`` imports, anywhere in its source (without the imports under
    ``if TYPE_CHECKING:`` when ``annotations`` is false)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"), str(MODULES[name]))
    skipped = set() if annotations else typing_only(tree)
    here = name.split(".") if is_package(name) else name.split(".")[:-1]    # where a relative import starts
    found: set[str] = set()

    def add(dotted: list[str]) -> None:
        while dotted:                                   # the module itself, or the package holding it
            candidate = ".".join(dotted)
            if candidate in MODULES:
                found.add(candidate)
                return
            dotted = dotted[:-1]
        found.add("__init__")

    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "procore_xl":
                    add(parts[1:])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if node.level - 1 > len(here):
                    raise AssertionError(f"{name}: a relative import above procore_xl")
                module = [*here[:len(here) - (node.level - 1)], *(node.module or "").split(".")]
            elif (node.module or "").split(".")[0] == "procore_xl":
                module = node.module.split(".")[1:]
            else:
                continue
            module = [part for part in module if part]
            for alias in node.names:                    # `from . import x` names a module x
                add([*module, alias.name] if ".".join([*module, alias.name]) in MODULES else module)
    found.discard(name)
    return found


def place(name: str) -> str:
    """The floor of a module ("sandbox" for the sandbox), or "" when the map has none."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix == SANDBOX:
            return SANDBOX
        for floor, names in LAYERS.items():
            if prefix in names:
                return floor
    return ""


def in_sandbox(name: str) -> bool:
    return name == SANDBOX or name.startswith(SANDBOX + ".")


GRAPH = {name: imports_of(name) for name in MODULES}                       # what a module names
RUNTIME = {name: imports_of(name, annotations=False) for name in MODULES}   # what importing it loads


def test_every_module_has_a_floor():
    homeless = [name for name in MODULES if not place(name)]
    assert not homeless, f"modules in no floor of LAYERS: {homeless}"


def test_imports_only_go_down():
    up = []
    for name, imported in sorted(GRAPH.items()):
        floor = place(name)
        for other in sorted(imported):
            if floor == SANDBOX:
                ok = in_sandbox(other) or other in SANDBOX_MAY_IMPORT
            elif in_sandbox(other) or not place(other) or not floor:
                ok = True                   # who may use the sandbox is not a floor question; no floor: above
            else:
                ok = FLOORS.index(place(other)) <= FLOORS.index(floor)
            if not ok:
                up.append(f"{name} ({floor}) imports {other} ({place(other)})")
    assert not up, "imports that run up a floor:\n" + "\n".join(up)


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan). Run on RUNTIME: an
    import under ``if TYPE_CHECKING:`` (a type named in an annotation) closes no circle, though it
    must still not run up a floor."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle():
    found = circles(RUNTIME)
    assert not found, f"import circles: {found}"


def test_the_catalog_imports_only_reference_and_errors():
    assert GRAPH["catalog"] <= {"reference", "errors"}, sorted(GRAPH["catalog"])


def test_the_sandbox_imports_only_reference_and_errors():
    outside = {other for name, imported in GRAPH.items() if in_sandbox(name) for other in imported
               if not in_sandbox(other)}
    assert outside <= set(SANDBOX_MAY_IMPORT), sorted(outside)


def test_no_module_over_550_lines_but_data():
    long = {name: n for name, path in MODULES.items()
            if name not in DATA_MODULES and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_the_architecture_map_is_this_map():
    """docs/ARCHITECTURE.md, section Layers: each floor's block names every module of that floor."""
    doc = (PACKAGE.parent / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    block = doc.split("## Layers", 1)[1].split("```")[1]
    shown: dict[str, str] = {}
    floor = ""
    for line in block.splitlines():
        words = line.split()
        if words and words[0].isdigit():
            floor = words[1]
        shown[floor] = shown.get(floor, "") + line + "\n"
    assert list(shown)[1:] == FLOORS[::-1]
    missing = {floor: [name for name in names if not re.search(rf"(?<![\w.]){re.escape(name)}\b", shown[floor])]
               for floor, names in LAYERS.items()}
    assert not any(missing.values()), f"modules missing from the map in docs/ARCHITECTURE.md: {missing}"


def longest_chain() -> list[str]:
    """The longest chain of runtime imports, importer first: its length is the height of the house
    in floors (modules on it)."""
    best: dict[str, list[str]] = {}

    def chain(v: str, seen: frozenset = frozenset()) -> list[str]:
        if v in best:
            return best[v]
        if v in seen:                       # a circle (reported by its own test): cut here
            return []
        below = max((chain(w, seen | {v}) for w in sorted(RUNTIME[v])), key=len, default=[])
        best[v] = [v, *below]
        return best[v]

    return max((chain(v) for v in sorted(RUNTIME)), key=len)


def floors() -> int:
    return len(longest_chain())


if __name__ == "__main__":                 # the figures: python tests/test_layers.py
    arrows = sum(len(v) for v in GRAPH.values())
    print(f"{len(MODULES)} modules, {arrows} import arrows, {floors()} floors (longest import chain)")
    for name in sorted(MODULES, key=lambda n: (FLOORS.index(place(n)) if place(n) in FLOORS else -1, n)):
        print(f"  {place(name) or '(none)':10} {name:28} -> {', '.join(sorted(GRAPH[name]))}")
    print("circles:", circles(RUNTIME))
    print("longest chain:", " -> ".join(longest_chain()))
