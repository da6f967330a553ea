"""The catalog search has one entry point: code outside `registry/search/` imports
from `registry.search` only, so the package's modules can be split or merged freely."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGE = "registry.search"
SKIP = {".venv", ".git", "node_modules", "var"}
SUBMODULES = {p.stem for p in (ROOT / "registry" / "search").glob("*.py")} - {"__init__"}


def _module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _imports(path: Path):
    """(line, imported module) for each import in the file, relative ones resolved."""
    module = _module_of(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            # `from registry.search import facets` imports a module, not a name.
            yield node.lineno, base
            yield from ((node.lineno, f"{base}.{alias.name}") for alias in node.names)


def _outside_sources():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if SKIP.intersection(parts) or parts[:2] == ("registry", "search"):
            continue
        yield path


def test_code_outside_the_search_package_imports_only_its_entry_point():
    assert {"engine", "facets", "query"} <= SUBMODULES, "the walk would check nothing"
    private = {f"{PACKAGE}.{name}" for name in SUBMODULES}
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _outside_sources()
        for line, name in _imports(path)
        if any(name == p or name.startswith(f"{p}.") for p in private)
    ]
    assert offenders == []
