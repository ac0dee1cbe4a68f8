"""HYPERLINK and IMAGE values: which URLs are kept, and how a page renders them (escaped)."""

from __future__ import annotations

import pytest
from formula_harness import checked
from markupsafe import Markup, escape

from metabiz.formulas import EvalContext, Image, Link, compile_python
from metabiz.formulas.links import safe_url


@pytest.mark.parametrize(("url", "kept"), [
    ("https://example.com/a?b=1", "https://example.com/a?b=1"),
    ("HTTP://EXAMPLE.COM", "HTTP://EXAMPLE.COM"), ("mailto:sales@example.cn", "mailto:sales@example.cn"),
    ("tel:+86-21-1234", "tel:+86-21-1234"), ("/objects/account/12", "/objects/account/12"),
    ("  https://x.cn  ", "https://x.cn"), ("report.pdf", "report.pdf"), ("?page=2", "?page=2"),
    ("javascript:alert(1)", None), ("JaVaScRiPt:alert(1)", None), (" javascript:alert(1)", None),
    ("java\tscript:alert(1)", None), ("java\nscript:alert(1)", None), ("\x01javascript:x", None),
    ("data:text/html;base64,PHNjcmlwdD4=", None), ("vbscript:msgbox(1)", None), ("", None),
    ("   ", None), (None, None),
])
def test_only_safe_urls_are_kept(url: str | None, kept: str | None) -> None:
    assert safe_url(url) == kept


def test_images_take_http_and_relative_urls_only() -> None:
    assert safe_url("https://x.cn/a.png", image=True) == "https://x.cn/a.png"
    assert safe_url("/static/a.png", image=True) == "/static/a.png"
    assert safe_url("mailto:a@b.cn", image=True) is None
    assert safe_url("data:image/png;base64,AAAA", image=True) is None


def run(source: str, record: dict[str, object]) -> object:
    return compile_python(checked(source))(EvalContext(record=record))


def test_a_link_renders_as_an_escaped_anchor_in_pages() -> None:
    link = run("HYPERLINK(site, name)", {"site": 'https://x.cn/?q="><script>', "name": "<b>Acme</b>"})
    assert isinstance(link, Link)
    assert escape(link) == Markup('<a href="https://x.cn/?q=&#34;&gt;&lt;script&gt;">'
                                  '&lt;b&gt;Acme&lt;/b&gt;</a>'.replace("&#34;", "&quot;"))
    assert str(link) == 'https://x.cn/?q="><script>'
    assert run('HYPERLINK(site, "")', {"site": "/x"}) == Link("/x", "/x")  # the URL as label


def test_an_image_renders_as_an_escaped_img_in_pages() -> None:
    image = run('IMAGE("/logo.png?a=1&b=2", title)', {"title": 'say "hi"'})
    assert isinstance(image, Image)
    assert escape(image) == Markup('<img src="/logo.png?a=1&amp;b=2" alt="say &quot;hi&quot;">')


def test_an_unsafe_url_gives_no_link_at_all() -> None:
    assert run('HYPERLINK(site, "click")', {"site": "javascript:alert(document.cookie)"}) is None
    assert run('IMAGE(site, "x")', {"site": "javascript:alert(1)"}) is None
