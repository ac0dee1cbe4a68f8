"""Link and image values (HYPERLINK, IMAGE): which URLs are safe, and how pages render them.

A page renders a value through `__html__` (Jinja2 and markupsafe call it), escaped; the API
shows the URL. A URL that could run script (`javascript:`, `data:`, …) never gets this far:
HYPERLINK and IMAGE give blank for it, in Python and in SQL alike.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

#: a URL that names a scheme ("javascript:", "HTTP:"): anything else is a relative URL
SCHEME = r"\A[A-Za-z][A-Za-z0-9+.-]*:"
#: control characters (tab and newline included), which browsers strip or skip in URLs
CONTROL = "[\x01-\x1f\x7f]"
LINK_SCHEMES = r"\A(?:https?|mailto|tel):"
IMAGE_SCHEMES = r"\A(?:https?):"
_SCHEME, _CONTROL = re.compile(SCHEME), re.compile(CONTROL)
_LINK_SCHEMES, _IMAGE_SCHEMES = re.compile(LINK_SCHEMES), re.compile(IMAGE_SCHEMES)


def safe_url(url: str | None, *, image: bool = False) -> str | None:
    """The URL with surrounding spaces removed, or None when it is blank or not safe.

    Safe: http(s) — and for links mailto: and tel: — or a relative URL (no scheme, such
    as `/objects/account/12`), with no control characters."""
    if url is None:
        return None
    url = url.strip(" ")
    if not url or _CONTROL.search(url):
        return None
    if _SCHEME.search(url) and not (_IMAGE_SCHEMES if image else _LINK_SCHEMES).search(
            url.lower()):
        return None
    return url


@dataclass(frozen=True)
class Link:
    """HYPERLINK(url, label): a link on pages, its URL in the API and in TEXT()."""

    url: str
    label: str

    def __str__(self) -> str:
        return self.url

    def __html__(self) -> str:
        return f'<a href="{html.escape(self.url)}">{html.escape(self.label)}</a>'


@dataclass(frozen=True)
class Image:
    """IMAGE(url, alt): an image on pages, its URL in the API and in TEXT()."""

    url: str
    alt: str

    def __str__(self) -> str:
        return self.url

    def __html__(self) -> str:
        return f'<img src="{html.escape(self.url)}" alt="{html.escape(self.alt)}">'


def make_link(url: str | None, label: str | None) -> Link | None:
    safe = safe_url(url)
    return None if safe is None else Link(safe, label or safe)


def make_image(url: str | None, alt: str | None) -> Image | None:
    safe = safe_url(url, image=True)
    return None if safe is None else Image(safe, alt or "")
