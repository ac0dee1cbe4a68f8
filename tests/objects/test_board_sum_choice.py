"""What a board's columns can total: currency and number fields, never percentages (a sum
of discounts means nothing), under a label that says what the choice does."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from metabiz.app import create_app
from metabiz.platform.config import Config
from tests.objects.people_app import make


@pytest.fixture
def app(request, db_url, tmp_path, sales_dir):
    path = sales_dir / "objects" / "opportunity.json"
    opportunity = json.loads(path.read_text(encoding="utf-8"))
    opportunity["fields"].append({"api_name": "seats", "type": "number",
                                  "label": {"en": "Seats", "zh": "席位数"}})
    path.write_text(json.dumps(opportunity), encoding="utf-8")
    request.getfixturevalue("sales")
    application = create_app(Config(database_url=db_url, secret_key="test",
                                    instance_path=tmp_path, testing=True))
    yield application
    application.extensions["metabiz"].engine.dispose()


def sum_choices(page: str) -> tuple[str, list[str]]:
    label = re.search(r'<label[^>]*for="board-sum">([^<]*)</label>', page)
    options = re.findall(r'<select id="board-sum".*?</select>', page, re.S)
    assert label and options, "no sum choice"
    return label[1], re.findall(r">([^<]+)</option>", options[0])


def test_columns_total_currency_and_number_fields_only(app, client):
    make(app, "opportunity", "alice", name="Alpha", amount="100", seats=3)
    make(app, "opportunity", "alice", name="Beta", amount="50", seats=4)
    page = unescape(client.get("/o/opportunity?board=stage").get_data(as_text=True))
    label, choices = sum_choices(page)
    assert choices == ["Amount", "Seats"]  # no Probability, no Discount
    assert label == "Column totals" and "Column totals: Amount" not in page
    seats = unescape(client.get("/o/opportunity?board=stage&sum=seats").get_data(as_text=True))
    assert re.search(r'data-column-total>\s*7', seats)
    label, _ = sum_choices(unescape(client.get("/o/opportunity?board=stage&lang=zh")
                                    .get_data(as_text=True)))
    assert label == "列合计"
    assert client.get("/o/opportunity?board=stage&sum=discount").status_code == 400
