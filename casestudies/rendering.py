"""Markdown to safe HTML for case-study texts that editors change in the admin."""

import markdown
import nh3

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "ul",
    "ol",
    "li",
    "blockquote",
    "h3",
    "h4",
    "h5",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "sup",
    "sub",
    "abbr",
    "code",
    "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"scope"}}


def render_markdown(text):
    """Render Markdown, then keep only an allow-list of tags and attributes.

    Markdown passes raw HTML through; nh3 then drops every tag and attribute outside the
    allow-list (scripts with their content, styles, event handlers, javascript: links).
    """
    html = markdown.markdown(text or "", extensions=["tables", "sane_lists"])
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
