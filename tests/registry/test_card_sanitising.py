"""Card text is Markdown written by users: it must never run as code on the version page."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from registry.choices import CARD_SECTION_NAMES
from registry.markdown import render_markdown
from registry.services import card_update, version_update

pytestmark = pytest.mark.django_db

PAYLOADS = {
    "script": "<script>alert('card')</script>",
    "onerror": '<img src="x" onerror="alert(1)">',
    "javascript_link": '<a href="javascript:alert(1)">click</a>',
    "iframe": '<iframe src="https://evil.example.com/"></iframe>',
    "data_url": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">d</a>'
    " ![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "markdown_js_link": "[x](javascript:alert(1))",
    "svg_onload": "<svg onload=alert(1)><circle r=1></svg>",
    "mixed_case": '<a href="JaVaScRiPt:alert(1)">j</a> <IMG SRC=x OnError=alert(1)>',
}


class Executables(HTMLParser):
    """Collects what a browser could run or load from the page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts, self.handlers, self.urls, self.frames = [], [], [], []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        if tag in ("iframe", "frame", "object", "embed"):
            self.frames.append(tag)
        self._in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append((tag, name, value))
            if name in ("href", "src", "action", "formaction", "xlink:href") and value:
                self.urls.append(value.strip().lower())

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def executables(html: str) -> Executables:
    parser = Executables()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("section", [CARD_SECTION_NAMES[0], CARD_SECTION_NAMES[-1]])
@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_card_sections_never_run_as_code_on_the_version_page(
    client, member, version, section, payload
):
    card_update(actor=member, card=version.card, sections={section: f"Intro.\n\n{payload}\n"})
    client.force_login(member)
    html = client.get(
        reverse("registry:version_detail", args=[version.model.name, version.number])
    ).content.decode()

    found = executables(html)
    assert not any("alert" in s for s in found.scripts)
    assert found.handlers == []
    assert not [u for u in found.urls if u.startswith(("javascript:", "data:", "vbscript:"))]
    assert found.frames == []
    assert "Intro." in html  # the harmless text survives


def test_every_section_and_the_release_notes_are_sanitised(client, member, version):
    payload = PAYLOADS["onerror"] + PAYLOADS["script"] + PAYLOADS["markdown_js_link"]
    card_update(
        actor=member, card=version.card, sections={name: payload for name in CARD_SECTION_NAMES}
    )
    version_update(actor=member, version=version, release_notes=payload)
    client.force_login(member)
    html = client.get(
        reverse("registry:version_detail", args=[version.model.name, version.number])
    ).content.decode()
    found = executables(html)
    assert found.handlers == []
    assert not any("alert" in s for s in found.scripts)
    assert not [u for u in found.urls if u.startswith("javascript:")]


def test_ordinary_markdown_still_renders():
    html = render_markdown(
        "## Results\n\n| slice | auc |\n|---|---|\n| EU | 0.91 |\n\n"
        "See [the report](https://wiki.example.com/fraud) or mail [us](mailto:ml@example.com)."
    )
    assert "<h2>Results</h2>" in html
    assert "<td>0.91</td>" in html
    assert (
        '<a href="https://wiki.example.com/fraud" rel="noopener noreferrer">the report</a>' in html
    )
    assert 'href="mailto:ml@example.com"' in html
