"""A report page shows a rate as people read it: the CRM's lead conversion by source, an
average of a formula computed to six decimals, reads 14.29 % on the page, while the API
keeps every decimal."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from html import unescape

from metabiz.app import build_runtime, create_app
from metabiz.objects import installer
from metabiz.platform.config import Config


def test_a_conversion_rate_shows_two_decimals_on_the_page(engine, db_url, tmp_path,
                                                          browser_session):
    installer.install(build_runtime(engine), "crm", demo_data=True)
    app = create_app(Config(database_url=db_url, secret_key="test", instance_path=tmp_path,
                            testing=True))
    client = app.test_client()
    try:
        browser_session(client, "bob")
        page = unescape(client.get("/reports/lead_conversion_by_source").get_data(as_text=True))
        cells = re.findall(r'<td class="num">([^<]*)</td>', page)
        rates = [c for c in cells if "." in c]
        assert rates and all(re.fullmatch(r"\d+\.\d\d", c) for c in rates), rates
        body = client.get("/api/v1/reports/lead_conversion_by_source").get_json()
        exact = [Decimal(str(row[3])) for row in body["rows"]]
        assert any(-r.as_tuple().exponent > 2 for r in exact)  # the API: every decimal
        shown = [f"{r.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
                 if -r.as_tuple().exponent > 2 else str(r) for r in exact]
        assert cells[2::3][:len(exact)] == shown  # leads, converted, rate per row
    finally:
        app.extensions["metabiz"].engine.dispose()
