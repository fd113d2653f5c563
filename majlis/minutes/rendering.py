"""Minutes as HTML: their Markdown (CommonMark with tables) rendered, then sanitised, for the pages."""

from __future__ import annotations

import functools

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# Raw HTML in the text is shown as text, not obeyed; the sanitiser is the second wall (a rendering bug, a link
# scheme) and keeps only what Markdown itself produces.
# A line break in the text is one on the page too (staff type minutes as lines, not as paragraphs).
_markdown = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("table")
ALLOWED_TAGS = {"p", "br", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote", "ul",
                "ol", "li", "a", "hr", "table", "thead", "tbody", "tr", "th", "td"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}  # no style: the pages' CSP allows none inline


@functools.lru_cache(maxsize=128)
def to_html(body: str) -> Markup:
    """The minutes' Markdown as safe HTML (kept for the latest texts: a page shows the same minutes to everyone)."""
    tokens = _markdown.parse(body or "")
    for token in tokens:  # the page's title is the h1: the minutes' own headings sit one level below it
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
    html = _markdown.renderer.render(tokens, _markdown.options, {})
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                      link_rel="noopener noreferrer nofollow")
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above
