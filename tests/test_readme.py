"""The README is the first thing a new user follows: what it names must exist."""

import re
from pathlib import Path

from django.core.management.commands.runserver import naiveip_re

from demo.management.commands.rundemo import Command as RunDemo

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
# Backticked paths and Markdown link targets.
CODE = re.findall(r"`([^`\s]+)`", README)
LINKS = re.findall(r"\]\(([^)\s]+)\)", README)
SOURCE_DIRS = {
    "config",
    "registry",
    "audit",
    "approvals",
    "demo",
    "mlflow_api",
    "bench",
    "tests",
    "static",
    "templates",
}


def test_it_points_at_no_file_outside_the_repository():
    outside = [p for p in CODE + LINKS if p.startswith("../") or "/../" in p]
    assert outside == []


def test_every_source_path_it_names_exists():
    named = [p for p in CODE + LINKS if "://" not in p and p.split("/")[0] in SOURCE_DIRS]
    assert named, "the README names no source file at all"
    missing = [p for p in named if not (ROOT / p).exists()]
    assert missing == []


def test_it_names_the_address_argument_that_rundemo_accepts():
    examples = re.findall(r"manage\.py rundemo (\S+)`", README)
    assert any(":" in e for e in examples), "no `manage.py rundemo host:port` example"
    for address in examples:
        assert naiveip_re.match(address), address
        parsed = RunDemo().create_parser("manage.py", "rundemo").parse_args([address])
        assert parsed.addrport == address
