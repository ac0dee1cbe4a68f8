"""The data table of list pages and related lists (`table_markup`): headers sorted either
way or not sortable, a selection column, blank and linked cells, text that needs escaping
— in English and Chinese."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from metabiz.app import create_app
from metabiz.objects.forms import BLANK, Shown
from metabiz.objects.web.table_markup import table_markup
from metabiz.platform.config import Config
from metabiz.platform.web.i18n import text

HEADERS = [
    {"name": "name", "label": "Name <&>", "numeric": False, "direction": "asc",
     "href": "/o/deal?sort=-name&q=a\"b"},
    {"name": "amount", "label": "Amount", "numeric": True, "direction": "desc",
     "href": "/o/deal?sort=amount"},
    {"name": "stage", "label": "Stage", "numeric": False, "direction": None,
     "href": "/o/deal?sort=stage"},
    {"name": "total", "label": "Total", "numeric": True, "direction": None, "href": None},
    {"name": "owner", "label": "Owner", "numeric": False},
]


def _rows() -> list[dict[str, object]]:
    cells = [
        [Shown("Acme <Ltd> & \"Co\""), Shown("1,250.50", kind="number"),
         Shown("Won", kind="badge"), BLANK, Shown("ann", href="/o/user/ann", kind="link")],
        [BLANK, None, Shown("Pending", kind="status-pending"),
         Shown(Markup('<img class="thumb" src="/f/1">'), kind="image"),
         Shown(text("yes"), kind="bool")],
        [Shown(Markup("<b>bold</b>")), Shown("2", kind="number"),
         Shown("one\ntwo", kind="multiline"), Shown("x", kind="other"), Shown(text("no"),
                                                                             kind="bool")],
    ]
    return [{"id": i + 1, "href": f"/o/deal/{i + 1}", "name": f"Deal <{i}> & co",
             "cells": row} for i, row in enumerate(cells)]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("table")
    return create_app(Config(database_url=f"sqlite:///{tmp}/m.db", secret_key="t",
                             instance_path=tmp, testing=True))


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("caption, select", [(None, None), ("Deals & co", "bulk-transfer"),
                                             ("Deals", None), (None, "bulk")])
def test_the_tables_shape(app, lang, caption, select):
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        html = str(table_markup(HEADERS, _rows(), caption=caption, select=select))
        select_label = text("select")
    assert html.startswith('<div class="table-wrap">\n<table class="data-table">')
    if caption is None:
        assert "<caption" not in html
    else:
        assert f'<caption class="sr-only">{caption.replace("&", "&amp;")}</caption>' in html
    # a selection column: a header for screen readers, a checkbox per row tied to the form
    assert (f'<span class="sr-only">{select_label}</span>' in html) == (select is not None)
    assert html.count(f'form="{select}"') == (3 if select else 0)
    assert html.count("<tr>") == 4 and html.count("<td data-label=") == 15
    assert html.count('class="num"') + html.count('class="num primary"') == 2 + 3 * 2
    assert 'href="/o/deal?sort=-name&amp;q=a&#34;b"' in html  # the address escaped once
    assert text("sorted_asc", lang) in html and text("sorted_desc", lang) in html
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        empty = str(table_markup(HEADERS, []))
    assert "<tbody>" in empty and "<td" not in empty


def test_the_table_shows_what_a_user_reads(app):
    with app.test_request_context("/", headers={"Accept-Language": "zh"}):
        html = str(table_markup(HEADERS, _rows(), caption="Deals", select="bulk"))
    assert "Acme &lt;Ltd&gt; &amp; &#34;Co&#34;" in html  # escaped, never markup
    assert '<a class="row-link" href="/o/deal/2">Deal &lt;1&gt; &amp; co</a>' in html
    assert '<a class="row-link" href="/o/deal/3"><b>bold</b></a>' in html
    assert 'aria-sort="ascending"' in html and 'aria-sort="descending"' in html
    assert text("sort_by", "zh", field="Amount") in html
    assert '<span class="pill">Won</span>' in html


def test_escaped_is_markupsafes_escape():
    from markupsafe import escape

    from metabiz.objects.web.table_markup import escaped
    for value in ["plain", "<a href=\"x\">'&'</a>", "好 & 坏", 42, None, Markup("<b>x</b>"),
                  Shown("a<b", kind="badge")]:
        assert escaped(value) == str(escape(value))
