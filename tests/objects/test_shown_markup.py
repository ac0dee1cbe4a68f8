"""A list cell rendered by `Shown.__html__` is the markup of the `value` macro it stands in
for (list pages skip a macro call per cell), in English and Chinese."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from metabiz.app import create_app
from metabiz.objects.forms import BLANK, Shown
from metabiz.objects.web.table_markup import table_markup
from metabiz.platform.config import Config
from metabiz.platform.web.i18n import text

SHOWN = [
    BLANK, Shown("plain <b>"), Shown("Acme & Co", href="/o/account/7?x=1&y=\"2\"", kind="link"),
    Shown("Won", kind="badge"), Shown("Pending", kind="status-pending"),
    Shown("line one\nline <two>", kind="multiline"), Shown("1,250.50", kind="number"),
    Shown(Markup('<img class="thumb" src="/f/1">'), kind="image"), Shown("x", kind="other"),
]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_cell_renders_as_the_value_macro(tmp_path, lang):
    app = create_app(Config(database_url=f"sqlite:///{tmp_path}/m.db", secret_key="t",
                            instance_path=tmp_path, testing=True))
    with app.test_request_context(f"/?lang={lang}"):
        macro = app.jinja_env.get_template("macros.html").module.value  # type: ignore[attr-defined]
        cases = [*SHOWN, Shown(text("yes"), kind="bool"), Shown(text("no"), kind="bool")]
        for shown in cases:
            assert Markup(shown).__html__() == str(macro(shown)), shown
        rows = [{"id": 1, "href": "/o/x/1", "name": "n", "cells": [Shown("first"), *cases]}]
        headers = [{"name": f"c{i}", "label": f"c{i}", "numeric": False}
                   for i in range(len(cases) + 1)]
        table = str(table_markup(headers, rows))
        for shown in cases:  # every cell of the table as the macro renders it
            assert str(macro(shown)) in table
        assert Shown(text("yes"), kind="bool").__html__().startswith('<span class="bool bool-yes">')
        assert Shown(text("no"), kind="bool").__html__().startswith('<span class="bool bool-no">')
