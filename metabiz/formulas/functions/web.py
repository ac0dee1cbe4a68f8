"""Web functions: HYPERLINK IMAGE (links.py's values: safe URLs only) URLENCODE HTMLENCODE.

In SQL a link or an image is its URL (what the API shows), so lists filter and sort by it.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from sqlalchemy import String, and_, case, func, literal, not_, or_

from metabiz.formulas.ftypes import FType
from metabiz.formulas.functions.math import blank_safe
from metabiz.formulas.functions.registry import TEXT, SqlCall, fixed, register
from metabiz.formulas.functions.sql_support import (
    code_point,
    map_characters,
    trim_chars,
    truthy,
)
from metabiz.formulas.links import (
    CONTROL,
    IMAGE_SCHEMES,
    LINK_SCHEMES,
    SCHEME,
    make_image,
    make_link,
)

HTML_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#39;"))
#: RFC 3986's unreserved characters, left as they are by URLENCODE
UNRESERVED_MARKS = (45, 46, 95, 126)  # - . _ ~


def _safe_url_sql(c: SqlCall, schemes: str) -> Any:
    """links.safe_url in SQL: the URL without surrounding spaces, or NULL if unsafe."""
    url = func.nullif(trim_chars(c.args[0], " ", c.dialect), literal(""))
    has_scheme = truthy(url.regexp_match(literal(SCHEME, String())), c.never_null)
    allowed = truthy(func.lower(url).regexp_match(literal(schemes, String())), c.never_null)
    control = truthy(url.regexp_match(literal(CONTROL, String())), c.never_null)
    return case((and_(not_(control), or_(not_(has_scheme), allowed)), url), else_=None)


def _hyperlink_sql(c: SqlCall) -> Any:
    return _safe_url_sql(c, LINK_SCHEMES)


def _image_sql(c: SqlCall) -> Any:
    return _safe_url_sql(c, IMAGE_SCHEMES)


def _urlencode(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _utf8_hex(char: Any, dialect: str) -> Any:
    if dialect == "sqlite":
        return func.hex(char)
    return func.upper(func.encode(func.convert_to(char, literal("UTF8")), literal("hex")))


def _urlencode_sql(c: SqlCall) -> Any:
    def render(char: Any, before: Any) -> Any:
        code = code_point(char, c.dialect)
        unreserved = or_(code.between(48, 57), code.between(65, 90), code.between(97, 122),
                         code.in_(UNRESERVED_MARKS))
        hex_digits = _utf8_hex(char, c.dialect)
        encoded: Any = literal("%").concat(func.substr(hex_digits, 1, 2))
        for start in (3, 5, 7):  # a character is at most 4 bytes of UTF-8
            encoded = encoded.concat(case(
                (func.length(hex_digits) > start, literal("%").concat(
                    func.substr(hex_digits, start, 2))), else_=literal("")))
        return case((truthy(unreserved, c.never_null), char), else_=encoded)

    return func.nullif(map_characters(c.args[0], render), literal(""))


def _htmlencode(text: str) -> str:
    for char, entity in HTML_ENTITIES:
        text = text.replace(char, entity)
    return text


def _htmlencode_sql(c: SqlCall) -> Any:
    text = c.args[0]
    for char, entity in HTML_ENTITIES:
        text = func.replace(text, literal(char), literal(entity))
    return text


register("HYPERLINK", 2, 2, fixed([TEXT, TEXT], FType.LINK), make_link, _hyperlink_sql,
         summary='HYPERLINK(url, label): a link on pages, its URL in the API')
register("IMAGE", 2, 2, fixed([TEXT, TEXT], FType.IMAGE), make_image, _image_sql,
         summary='IMAGE(url, alt): an image on pages, its URL in the API')
register("URLENCODE", 1, 1, fixed([TEXT], FType.TEXT), blank_safe(_urlencode), _urlencode_sql,
         summary='URLENCODE(text): percent-encoded for a URL, URLENCODE("a b") = "a%20b"')
register("HTMLENCODE", 1, 1, fixed([TEXT], FType.TEXT), blank_safe(_htmlencode), _htmlencode_sql,
         summary='HTMLENCODE(text): & < > " \' written as HTML entities')
