"""Templates carry no inline code: the Content-Security-Policy allows scripts and styles
only from static files, so an inline <script>, <style>, style= or on*= would be
blocked in the browser (and would tempt someone to weaken the policy)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
TEMPLATE_DIRS = [ROOT / "templates"] + [
    ROOT / app / "templates" for app in ("registry", "approvals", "audit")
]
# Django's templates (*.html) and the Jinja2 partials (*.jinja, config/jinja2.py).
TEMPLATES = sorted(
    path
    for folder in TEMPLATE_DIRS
    if folder.is_dir()
    for pattern in ("*.html", "*.jinja")
    for path in folder.rglob(pattern)
)

# Opening tags, including ones whose attributes hold template tags ({% if %}...).
TAG = re.compile(r"<[a-zA-Z][^<>]*>")
INLINE_ATTRIBUTE = re.compile(r"(?<![\w:-])(style|on[a-z]+)\s*=", re.IGNORECASE)
SCRIPT_WITH_CONTENT = re.compile(r"<script\b[^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""=\s*["']?\s*javascript:""", re.IGNORECASE)


COMMENT = re.compile(r"{% comment %}.*?{% endcomment %}|{#.*?#}", re.DOTALL)


def inline_code(source: str) -> list[str]:
    source = COMMENT.sub("", source)
    problems = []
    for match in SCRIPT_WITH_CONTENT.finditer(source):
        if match.group(1).strip():
            problems.append(f"inline <script>: {match.group(0)[:60]!r}")
    if STYLE_ELEMENT.search(source):
        problems.append("a <style> element")
    for tag in TAG.finditer(source):
        for attribute in INLINE_ATTRIBUTE.finditer(tag.group(0)):
            problems.append(f"{attribute.group(1)}= in {tag.group(0)[:80]!r}")
        if JAVASCRIPT_URL.search(tag.group(0)):
            problems.append(f"javascript: URL in {tag.group(0)[:80]!r}")
    return problems


def test_there_are_templates_to_check():
    assert len(TEMPLATES) > 10
    assert any(path.suffix == ".jinja" for path in TEMPLATES)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_template_has_no_inline_script_style_or_handler(path):
    assert inline_code(path.read_text()) == []


@pytest.mark.parametrize(
    "source",
    [
        "<script>\n  go();\n</script>",
        '<div class="x" style="width: 5%">',
        '<input value="{{ v }}" onfocus="this.select()">',
        '<body ONLOAD="x()">',
        "<style>p { color: red }</style>",
        '<a href="javascript:void(0)">',
        '<span {% if a %}style="display:none"{% endif %}>',
    ],
)
def test_the_check_catches_inline_code(source):
    assert inline_code(source)


@pytest.mark.parametrize(
    "source",
    [
        '<script src="/static/js/catalog.js"></script>',
        '<meter class="meter" value="40" data-onchange="x">',
        "<p>Turn it on=off by hand.</p>",
        '<svg><text text-anchor="end">1</text></svg>',
    ],
)
def test_the_check_allows_static_scripts_and_plain_markup(source):
    assert inline_code(source) == []
