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


# Each would make the reader's browser fetch from tracker.example just by opening the page.
REMOTE_CONTENT = {
    "markdown_image": "![pixel](https://tracker.example/p.gif)",
    "markdown_image_titled": '![chart](https://tracker.example/c.png "Latency")',
    "reference_image": "![logo][l]\n\n[l]: https://tracker.example/logo.png",
    "raw_img": '<img src="https://tracker.example/p.gif" alt="">',
    "srcset": '<img srcset="https://tracker.example/a.png 1x" alt="a">',
    "picture": '<picture><source srcset="https://tracker.example/p.webp"></picture>',
    "video": '<video src="https://tracker.example/v.mp4" poster="https://tracker.example/p.png">',
    "audio": '<audio autoplay src="https://tracker.example/a.mp3"></audio>',
    "iframe": '<iframe src="https://tracker.example/f"></iframe>',
    "object": '<object data="https://tracker.example/o.swf"></object>',
    "embed": '<embed src="https://tracker.example/e.swf">',
    "style_attribute": '<span style="background:url(https://tracker.example/s.png)">s</span>',
    "style_element": "<style>@import url(https://tracker.example/s.css);</style>",
    "stylesheet": '<link rel="stylesheet" href="https://tracker.example/s.css">',
    "table_background": '<table background="https://tracker.example/t.png"><tr><td>1</td></tr></table>',
    "svg_image": '<svg><image href="https://tracker.example/i.png"/></svg>',
    "meta_refresh": '<meta http-equiv="refresh" content="0;url=https://tracker.example/">',
    "base": '<base href="https://tracker.example/">',
    "form": '<form action="https://tracker.example/f"><input type="image" src="https://tracker.example/i.png"></form>',
    "link_ping": '<a href="https://wiki.example.com/" ping="https://tracker.example/ping">wiki</a>',
    "relative_image": "![on-site](/accounts/logout/)",
}


class RemoteLoads(HTMLParser):
    """What on the page names tracker.example anywhere but a link's href (a link only
    loads when the reader follows it)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.loads, self.images = [], []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self._in_style = tag == "style"
        if tag in ("img", "image", "picture", "video", "audio", "source", "iframe", "object"):
            self.images.append(tag)
        for name, value in attrs:
            if "tracker.example" in (value or "") and not (tag == "a" and name == "href"):
                self.loads.append((tag, name, value))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style and "tracker.example" in data:
            self.loads.append(("style", "", data))


def remote_loads(html: str) -> RemoteLoads:
    parser = RemoteLoads()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("payload", REMOTE_CONTENT.values(), ids=REMOTE_CONTENT.keys())
def test_card_markdown_makes_the_browser_load_nothing(client, member, version, payload):
    card_update(
        actor=member, card=version.card, sections={"intended_use": f"Intro.\n\n{payload}\n"}
    )
    client.force_login(member)
    html = client.get(
        reverse("registry:version_detail", args=[version.model.name, version.number])
    ).content.decode()

    found = remote_loads(html)
    assert found.loads == []
    assert found.images == []
    assert "Intro." in html


def test_an_image_becomes_a_link_showing_its_alt_text_and_address():
    html = render_markdown(
        'Latency: ![p95 latency chart](https://grafana.example.com/p95.png "p95").'
    )
    assert "<img" not in html
    assert (
        '<a class="card-image" href="https://grafana.example.com/p95.png" '
        'rel="noopener noreferrer">'
        "Image: p95 latency chart (https://grafana.example.com/p95.png)</a>"
    ) in html


def test_a_raw_html_image_becomes_a_link_too():
    html = render_markdown('<img src="https://x.example/a.png?w=1&h=2" alt="a <b> & c">')
    assert "<img" not in html
    assert 'href="https://x.example/a.png?w=1&amp;h=2"' in html
    assert "Image: a &lt;b&gt; &amp; c (https://x.example/a.png?w=1&amp;h=2)" in html


def test_an_image_inside_a_link_is_text_inside_that_link():
    html = render_markdown("[![build passing](https://ci.example/badge.svg)](https://ci.example/)")
    assert "<img" not in html
    assert html.count("<a ") == 1
    assert '<a href="https://ci.example/"' in html
    assert "Image: build passing (https://ci.example/badge.svg)" in html


def test_an_image_with_a_refused_address_keeps_only_its_alt_text():
    html = render_markdown("![diagram](javascript:alert(1)) ![](data:image/png;base64,AAAA)")
    assert "<img" not in html and "javascript" not in html and "data:" not in html
    assert '<span class="card-image">Image: diagram</span>' in html


def test_one_sections_link_definitions_do_not_leak_into_the_next_one():
    """Sections are rendered by one reused converter (registry.markdown): a reference
    link defined in one text must not turn a bracketed word of another into a link."""
    defining = "See [docs].\n\n[docs]: https://evil.example.com/"
    assert 'href="https://evil.example.com/"' in render_markdown(defining)
    assert "href" not in render_markdown("Read the [docs] first.")
    # Rendered again, from the cache, the same text gives the same HTML.
    assert render_markdown(defining) == render_markdown(defining + "")
    long_text = "word " * 5000  # past the cached size, rendered each time
    assert render_markdown(long_text) == render_markdown(long_text)
