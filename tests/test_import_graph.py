"""The apps depend one way, approvals -> registry -> audit, and audit imports no app
(DESIGN.md): the import-linter contract in pyproject.toml, run as part of the suite."""

from pathlib import Path

import grimp
from importlinter.cli import lint_imports

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_apps_import_each_other_only_downwards(capsys):
    exit_code = lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    assert exit_code == 0, capsys.readouterr().out


def test_the_contract_sees_the_imports_it_constrains():
    """The layers are the real packages: registry's services do write through audit."""
    graph = grimp.build_graph("registry", "audit", cache_dir=None)
    chain = graph.find_shortest_chain("registry.services", "audit.services", as_packages=True)
    assert chain is not None
    assert graph.find_shortest_chain("audit", "registry", as_packages=True) is None
