"""HTML to plain text for the format parsers, through an allow-list sanitiser.

Feeds and ninjs carry HTML in summaries and bodies. The pipeline stores plain
text, so markup is removed rather than kept: :func:`strip_html` runs ``nh3`` (a
binding to the Rust ``ammonia`` sanitiser, a real HTML5 parser) with an *empty*
tag allow-list, so every element goes and only text survives. ``script`` and
``style`` lose their content too, comments are dropped, and no regular
expression ever decides what is markup. Entities are decoded once afterwards,
so the result is text, not HTML: whoever renders it must escape it again.
"""

from __future__ import annotations

import html
import re
from typing import Final

import nh3

#: Elements that end a line of text when rendered. A break is put in front of them
#: before sanitising, so "<p>One</p><p>Two</p>" becomes two paragraphs, not "OneTwo".
#: Only whitespace is added here; nh3 still decides what is markup.
_BLOCK_TAG: Final = re.compile(
    r"<\s*/?\s*(?:address|article|aside|blockquote|br|dd|div|dl|dt|figcaption|figure|footer"
    r"|h[1-6]|header|hr|li|main|nav|ol|p|pre|section|table|td|th|tr|ul)(?=[\s/>])",
    re.IGNORECASE,
)
_WHITESPACE: Final = re.compile(r"\s+")
_SURROGATE: Final = re.compile(r"[\ud800-\udfff]")

#: A start or end tag, a comment, or a character reference. The tag alternative
#: stops at the next "<", so the search stays linear on text full of "<".
_HTML_HINT: Final = re.compile(
    r"<(?:/?[A-Za-z][A-Za-z0-9:-]*(?:[\s/][^<>]*)?|!--[^<>]*)>"
    r"|&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});"
)


def looks_like_html(text: str) -> bool:
    """True when the text contains a tag, a comment or a character entity.

    Used for fields that may be either plain text or HTML (ninjs values without a
    content type, RSS titles): plain text such as "a < b" is left alone.
    """
    return _HTML_HINT.search(text) is not None


def strip_html(text: str, *, keep_paragraphs: bool = False) -> str:
    """Plain text of an HTML fragment: no tags, entities decoded, whitespace collapsed.

    With ``keep_paragraphs`` block elements (``p``, ``br``, ``li``, ...) become
    blank-line paragraph breaks, as the normaliser keeps them in bodies; without it
    the result is one line. Never raises: lone surrogates, which the sanitiser
    cannot take, become U+FFFD.
    """
    source = _SURROGATE.sub("\ufffd", text)
    # Source line breaks are not text breaks in HTML; block elements are.
    source = _WHITESPACE.sub(" ", source)
    source = _BLOCK_TAG.sub(lambda match: "\n" + match.group(0), source)
    plain = html.unescape(nh3.clean(source, tags=set()))
    lines = (" ".join(line.split()) for line in plain.split("\n"))
    return ("\n\n" if keep_paragraphs else " ").join(line for line in lines if line)
