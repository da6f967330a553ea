"""Markdown written by users (model cards, release notes), rendered safe to embed.

Python-Markdown passes raw HTML through untouched, so everything it produces goes
through nh3 (ammonia) with an allow-list: no scripts, styles, frames, forms or media, no
event handler or style attributes, and only http, https and mailto links. Every link
gets rel="noopener noreferrer".

A card must not make the reader's browser fetch anything on its own (a tracking pixel
would tell a third party who read which card, and when). Modelgate stores no images
with a model, so every image, in Markdown or raw HTML, becomes a link that shows its
alt text and address: the reader sees what it was and decides whether to open it.
"""

import functools
import threading
from html import escape
from html.parser import HTMLParser

import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe

EXTENSIONS = ["tables", "fenced_code", "sane_lists"]

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}
IMAGE_CLASS = "card-image"


def _clean(html: str, *, tags: set[str], attributes: dict[str, set[str]]) -> str:
    return nh3.clean(
        html,
        tags=tags,
        clean_content_tags={"script", "style"},
        attributes=attributes,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
        allowed_classes={"a": {IMAGE_CLASS}, "span": {IMAGE_CLASS}},
    )


class _ImagesAsLinks(HTMLParser):
    """Copies sanitised HTML through, writing each <img> as a link to its address
    (or as plain text inside a link, such as a badge, since links cannot nest)."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.open_links = 0

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.open_links += 1
        if tag != "img":
            self.out.append(self.get_starttag_text())
            return
        values = dict(attrs)
        src, alt = (values.get("src") or "").strip(), (values.get("alt") or "").strip()
        if not (src or alt):
            return
        shown = f"{alt} ({src})" if alt and src else alt or src
        text = escape(f"Image: {shown}")
        if src and not self.open_links:
            self.out.append(f'<a class="{IMAGE_CLASS}" href="{escape(src)}">{text}</a>')
        else:
            self.out.append(f'<span class="{IMAGE_CLASS}">{text}</span>')

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "a":
            self.open_links = max(0, self.open_links - 1)
        self.out.append(f"</{tag}>")

    def handle_data(self, data):
        self.out.append(data)

    def handle_entityref(self, name):
        self.out.append(f"&{name};")

    def handle_charref(self, name):
        self.out.append(f"&#{name};")


_converters = threading.local()


def _to_html(text: str) -> str:
    # One converter per thread, reset between texts: building one (its extensions and
    # processors) cost more than converting a card section.
    converter = getattr(_converters, "markdown", None)
    if converter is None:
        converter = markdown_lib.Markdown(extensions=EXTENSIONS, output_format="html")
        _converters.markdown = converter
    return converter.reset().convert(text)


# A version page renders its card's sections and release notes; versions of a model
# mostly inherit the same texts, so the same few texts are rendered again and again.
# Texts up to this size are kept (at most CACHED_TEXTS of them: a few MB per process).
CACHED_TEXT_LENGTH = 16_384
CACHED_TEXTS = 256


def render_markdown(text: str) -> SafeString:
    """HTML for `text` (Markdown), sanitised with the allow-list above.

    The result loads nothing by itself: no image, frame, media, stylesheet or font."""
    text = text or ""
    if len(text) <= CACHED_TEXT_LENGTH:
        return _render_cached(text)
    return _render(text)


@functools.lru_cache(maxsize=CACHED_TEXTS)
def _render_cached(text: str) -> SafeString:
    return _render(text)


def _render(text: str) -> SafeString:
    html = _to_html(text)
    # First pass: sanitise, keeping images (with only an allowed-scheme src) to rewrite.
    cleaned = _clean(
        html,
        tags=ALLOWED_TAGS | {"img"},
        attributes={**ALLOWED_ATTRIBUTES, "img": {"src", "alt"}},
    )
    rewriter = _ImagesAsLinks()
    rewriter.feed(cleaned)
    rewriter.close()
    # Second pass over our own output, so what reaches the page is always the allow-list.
    final = _clean("".join(rewriter.out), tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES)
    return mark_safe(final)  # sanitised by nh3 just above
