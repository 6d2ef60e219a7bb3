"""Organisers' text as HTML: Markdown rendered by markdown-it-py, then sanitised by nh3.

The renderer runs without raw HTML (``js-default``); nh3 then keeps only the tags a petition needs, links
with http, https or mailto addresses (marked ``nofollow noopener noreferrer``), and no images, scripts,
styles or event attributes. Headings move down (# to h3, deeper ones to h4) to sit under the page's own h1
and h2.
The console's preview uses the same function.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

TAGS = {"p", "br", "em", "strong", "a", "ul", "ol", "li", "blockquote", "h3", "h4", "code", "pre", "hr"}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer"

_md = MarkdownIt("js-default")  # html=False: raw HTML is shown as text, never passed through


def _headings_under_the_page(tag: str) -> str:
    return "h3" if tag == "h1" else "h4"


def render(text: str | None) -> Markup:
    """Safe HTML for a petition's Markdown text (an empty string for none)."""
    if not text or not text.strip():
        return Markup("")
    env: dict[str, object] = {}
    tokens = _md.parse(text, env)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = _headings_under_the_page(token.tag)
    return Markup(sanitize(_md.renderer.render(tokens, _md.options, env)))  # noqa: S704 (sanitised)


def sanitize(html: str) -> str:
    """Only the allowed tags, attributes and link schemes of an HTML fragment; scripts and styles dropped
    with their content."""
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES, link_rel=LINK_REL,
                     clean_content_tags={"script", "style"}, strip_comments=True).strip()


def plain_paragraphs(text: str | None) -> list[str]:
    """The text of each paragraph, heading and list item, without Markdown marks (for a PDF or plain text)."""
    if not text or not text.strip():
        return []
    blocks: list[str] = []
    prefix = ""
    for token in _md.parse(text, {}):
        if token.type == "list_item_open":
            prefix = "• "
        elif token.type == "inline":
            words = "".join(" " if child.type in ("softbreak", "hardbreak") else child.content
                            for child in token.children or ()
                            if child.type in ("text", "code_inline", "softbreak", "hardbreak"))
            blocks.append(prefix + " ".join(words.split()))
            prefix = ""
    return [block for block in blocks if block.strip()]
