"""Reports and dashboards built in the builder's forms (without JavaScript): the live preview
runs the report being edited on real records, every save shows the plan first, and problems
show beside the grouping, measure or component they belong to."""

from __future__ import annotations

import html
import re

from builder_client import confirm, signed_in


def deals(client, token) -> None:
    for name, stage, amount in (("A", "prospecting", 100), ("B", "prospecting", 250),
                                ("C", "negotiation", 1000)):
        response = client.post("/api/v1/records/opportunity", json={
            "name": name, "stage": stage, "amount": amount, "close_date": "2026-11-23"},
            headers={"X-CSRF-Token": token})
        assert response.status_code == 201


def report_form(token, **changes):
    form = {"csrf_token": token, "api_name": "deals_by_stage", "label_en": "Deals by stage",
            "label_zh": "各阶段商机", "object": "opportunity",
            "group0_field": "stage", "group1_field": "",
            "measure_api_name": ["deals", "amount", ""],
            "measure_function": ["count", "sum", "sum"],
            "measure_field": ["", "amount", ""], "measure_formula": ["", "", ""],
            "measure_label_en": ["Deals", "Amount", ""], "measure_label_zh": ["商机数", "", ""],
            "sort": "-amount", "chart_type": "bar", "chart_y": ["amount"]}
    form.update(changes)
    return form


def test_the_preview_runs_the_report_being_edited_on_real_records(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    deals(client, token)
    response = client.post("/builder/report-preview", data=report_form(token))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-preview-status="ok"' in page and re.search(r'data-report-chart="data-preview-[0-9a-f]+"', page)
    rows = re.findall(r'<tr data-href="[^"]*">\s*<th scope="row">([^<]+)</th>\s*'
                      r'<td class="num">([^<]+)</td>\s*<td class="num">([^<]+)</td>', page)
    # sorted by the amount, descending; picklists by their label
    assert rows == [("Negotiation", "1", "1,000"), ("Prospecting", "2", "350")]
    assert "/o/opportunity?filter=ISPICKVAL" in page  # a row opens its records
    nothing = client.get("/api/v1/reports/deals_by_stage")
    assert nothing.status_code == 404  # the preview saved nothing

    monthly = client.post("/builder/report-preview", data=report_form(
        token, group0_field="close_date", group0_bucket="month", sort="",
        chart_type="line")).get_data(as_text=True)
    assert "2026-11" in monthly or "Nov" in monthly


def test_a_report_is_saved_through_the_plan_and_runs(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    deals(client, token)
    assert "New report" in client.get("/builder").get_data(as_text=True)
    form = client.get("/builder/reports/new?object=opportunity").get_data(as_text=True)
    assert 'value="opportunity" selected' in form and 'name="group0_field"' in form
    plan = client.post("/builder/reports/new", data=report_form(token))
    assert plan.status_code == 200
    text = plan.get_data(as_text=True)
    assert "Review the changes" in text and "add report deals_by_stage" in text
    assert client.get("/api/v1/reports/deals_by_stage").status_code == 404  # not yet
    applied = confirm(client, text)
    assert applied.headers["Location"].endswith("/builder/reports/deals_by_stage")
    result = client.get("/api/v1/reports/deals_by_stage").get_json()
    assert result["columns"] == ["stage", "deals", "amount"]
    assert result["rows"][0][0] == "negotiation" and result["totals"]["deals"] == 3
    other = client.get("/builder/reports/deals_by_stage?object=account").get_data(as_text=True)
    assert 'value="account" selected' in other and 'value="credit_limit"' in other
    doc = client.get("/builder/reports/deals_by_stage").get_data(as_text=True)
    assert 'value="deals_by_stage"' in doc and "readonly" in doc  # a saved report keeps its name
    assert "/reports/deals_by_stage" in doc  # "Open report"
    # in Chinese
    zh = client.get("/builder/reports/deals_by_stage?lang=zh").get_data(as_text=True)
    assert "分组" in zh and "统计值" in zh and "在实际记录上预览" in zh
    # a formula grouping and a formula measure
    plan = client.post("/builder/reports/deals_by_stage", data=report_form(
        token, group0_field="", group0_formula='IF(amount > 500, "big", "small")',
        group0_api_name="size", measure_api_name=["deals", "amount", "weighted"],
        measure_function=["count", "sum", "sum"], measure_field=["", "amount", ""],
        measure_formula=["", "", "amount * probability / 100"], sort="", chart_y=[]))
    confirm(client, plan.get_data(as_text=True))
    result = client.get("/api/v1/reports/deals_by_stage").get_json()
    assert result["columns"] == ["size", "deals", "amount", "weighted"]
    assert sorted(r[0] for r in result["rows"]) == ["big", "small"]


def test_report_problems_show_by_the_part_of_the_form(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    bad = report_form(token, group0_bucket="month",  # stage is a picklist
                      measure_field=["", "name", ""])  # a sum of text
    response = client.post("/builder/reports/new", data=bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert re.search(r'id="e-group0" role="alert"><p>[^<]*month bucket groups dates', page)
    assert re.search(r'id="e-measure1" role="alert"><p>[^<]*sum needs a number', page)
    assert client.get("/api/v1/reports/deals_by_stage").status_code == 404
    not_a_number = client.post("/builder/reports/new", data=report_form(token, limit="lots"))
    assert re.search(r'id="e-limit" role="alert"><p>[^<]*lots', not_a_number.get_data(
        as_text=True).replace("&#39;", "'"))
    # the preview says the same, naming where
    preview = client.post("/builder/report-preview", data=report_form(
        token, measure_field=["", "name", ""])).get_data(as_text=True).replace("&#39;", "'")
    assert 'data-preview-status="error"' in preview
    assert "Measure 2" in preview and "sum needs a number" in preview
    # a formula that does not check, and a grouping formula without a column name
    preview = client.post("/builder/report-preview", data=report_form(
        token, group0_formula="TEXT(stage)")).get_data(as_text=True)
    assert "Grouping 1 · api_name" in preview
    preview = client.post("/builder/report-preview", data=report_form(
        token, filter="amout > 1")).get_data(as_text=True).replace("&#39;", "'")
    assert "Only records where (formula)" in preview and "unknown field 'amout'" in preview
    no_object = client.post("/builder/report-preview", data=report_form(token, object=""))
    assert "Choose the object" in no_object.get_data(as_text=True)
    # a new report cannot take a taken name
    confirm(client, client.post("/builder/reports/new", data=report_form(token))
            .get_data(as_text=True))
    again = client.post("/builder/reports/new", data=report_form(token))
    assert again.status_code == 422
    assert "is taken" in again.get_data(as_text=True)


def test_a_dashboard_is_a_grid_of_report_components_for_some_roles(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    deals(client, token)
    confirm(client, client.post("/builder/reports/new", data=report_form(token))
            .get_data(as_text=True))
    form = client.get("/builder/dashboards/new").get_data(as_text=True)
    assert 'value="deals_by_stage"' in form and 'value="sales_rep"' in form
    dashboard = {"csrf_token": token, "api_name": "sales_desk", "label_en": "Sales desk",
                 "label_zh": "销售看板", "roles": ["sales_rep"],
                 "component_report": ["deals_by_stage", "deals_by_stage", ""],
                 "component_width": ["8", "4", "6"], "component_chart": ["", "pie", ""],
                 "component_chart_kept": ["", "", ""],
                 "component_title_en": ["", "Share", ""], "component_title_zh": ["", "占比", ""]}
    plan = client.post("/builder/dashboards/new", data=dashboard)
    assert plan.status_code == 200 and "add dashboard sales_desk" in plan.get_data(as_text=True)
    applied = confirm(client, plan.get_data(as_text=True))
    assert applied.headers["Location"].endswith("/builder/dashboards/sales_desk")
    board = client.get("/api/v1/dashboards/sales_desk").get_json()
    assert [(c["report"], c["width"], c["chart"]["type"]) for c in board["components"]] == [
        ("deals_by_stage", 8, "bar"), ("deals_by_stage", 4, "pie")]
    assert board["roles"] == ["sales_rep"]
    page = client.get("/builder/dashboards/sales_desk").get_data(as_text=True)
    assert 'class="grid-cell grid-w8"' in page and "Share" in page
    # alice (a sales rep) has it on her home page
    signed_in(client, "alice", browser_session)
    assert "Sales desk" in client.get("/").get_data(as_text=True)


def test_dashboard_problems_show_by_their_component(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    response = client.post("/builder/dashboards/new", data={
        "csrf_token": token, "api_name": "desk", "roles": ["ghost"],
        "component_report": ["missing"], "component_width": ["5"], "component_chart": [""],
        "component_chart_kept": [""], "component_title_en": [""], "component_title_zh": [""]})
    assert response.status_code == 422
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert re.search(r'id="e-component0" role="alert"><p>', page)
    empty = client.post("/builder/dashboards/new", data={
        "csrf_token": token, "api_name": "desk", "component_report": [""]})
    assert empty.status_code == 422
    assert 'id="e-components"' in empty.get_data(as_text=True)


def test_only_admins_reach_the_report_designer(client, browser_session):
    token = signed_in(client, "alice", browser_session)
    for path in ("/builder/reports/new", "/builder/dashboards/new",
                 "/builder/reports/anything"):
        assert client.get(path).status_code == 404
    assert client.post("/builder/report-preview",
                       data=report_form(token)).status_code == 404
    signed_in(client, "admin", browser_session)
    assert client.get("/builder/reports/missing").status_code == 404
    assert client.get("/builder/dashboards/missing").status_code == 404


REPORT = {"api_name": "pipeline", "label": {"en": "Pipeline", "zh": "商机漏斗"},
          "description": {"en": "Open deals", "zh": "未结商机"}, "object": "opportunity",
          "filter": 'NOT(ISPICKVAL(stage, "closed_won"))',
          "group_by": [{"field": "stage", "label": {"en": "Stage", "zh": "阶段"}},
                       {"field": "close_date", "bucket": "quarter"}],
          "measures": [{"api_name": "deals", "function": "count"},
                       {"api_name": "amount", "function": "sum", "field": "amount",
                        "label": "Amount"},
                       {"api_name": "weighted", "function": "avg",
                        "formula": "amount * probability / 100"}],
          "sort": "-amount", "limit": 50,
          "chart": {"type": "bar", "x": "stage", "y": ["amount", "weighted"],
                    "horizontal": True}}
DASHBOARD = {"api_name": "desk", "label": {"en": "Desk", "zh": "看板"},
             "roles": ["sales_rep", "admin"],
             "components": [{"report": "pipeline", "width": 12},
                            {"report": "pipeline", "title": {"en": "Share", "zh": "占比"},
                             "chart": {"type": "pie", "y": ["deals"]}, "width": 4}]}


def test_reports_and_dashboards_saved_again_unchanged_keep_every_key(client, browser_session,
                                                                     posted):
    token = signed_in(client, "admin", browser_session)
    for kind, doc in (("reports", REPORT), ("dashboards", DASHBOARD)):
        put = client.put(f"/api/v1/meta/{kind}/{doc['api_name']}", json=doc,
                         headers={"X-CSRF-Token": token})
        assert put.status_code == 200, put.get_json()
        url = f"/builder/{kind}/{doc['api_name']}"
        again = client.post(url, data=posted(client.get(url).get_data(as_text=True)))
        assert again.status_code == 200, again.get_data(as_text=True)
        assert "No changes: the metadata already says this." in again.get_data(as_text=True)


def test_grouping_and_measure_formulas_use_the_formula_editor(client, browser_session, posted):
    token = signed_in(client, "admin", browser_session)
    deals(client, token)
    plan = client.post("/builder/reports/new", data=report_form(
        token, group0_field="", group0_formula='IF(amount > 500, "big", "small")',
        group0_api_name="size", measure_formula=["", "", "amount / 2"],
        measure_field=["", "amount", ""], measure_api_name=["deals", "amount", "half"]))
    confirm(client, plan.get_data(as_text=True))
    page = client.get("/builder/reports/deals_by_stage").get_data(as_text=True)
    # the grouping's formula: an editor with the field and function pickers and a live check
    group = re.search(r'<textarea id="f-group0_formula" name="group0_formula"[^>]*>([^<]*)<',
                      page)
    assert group and html.unescape(group[1]) == 'IF(amount > 500, "big", "small")'
    assert 'data-insert-into="f-group0_formula"' in page
    assert 'name="fc_object__group0_formula" value="opportunity"' in page
    # each measure row has its own editor (own id, its own text checked)
    ids = re.findall(r'<textarea id="f-(measure_formula\d)" name="measure_formula"', page)
    assert ids[:3] == ["measure_formula0", "measure_formula1", "measure_formula2"]
    assert len(set(ids)) == len(ids) == page.count("data-formula-own")  # blank rows too
    assert 'data-insert-into="f-measure_formula2"' in page and ">AVERAGE()<" in page
    # the live check: line, column and caret; the result type
    bad = client.post("/builder/formula-check", data={
        **posted(page), "measure_formula": "amount /\n  amout"},
        headers={"X-CSRF-Token": token, "HX-Trigger-Name": "measure_formula"})
    text = bad.get_data(as_text=True)
    assert "Line 2, column 3" in text and "amout" in text and "^" in text
    good = client.post("/builder/formula-check", data={
        **posted(page), "group0_formula": "TEXT(stage)"},
        headers={"X-CSRF-Token": token, "HX-Trigger-Name": "group0_formula"})
    assert "result type: Text" in good.get_data(as_text=True)
    # saved again as shown: nothing changes, the formulas stay in their rows
    again = client.post("/builder/reports/deals_by_stage",
                        data={**posted(page), "csrf_token": [token]})
    assert again.status_code == 200
    confirm(client, again.get_data(as_text=True))
    result = client.get("/api/v1/reports/deals_by_stage").get_json()
    assert result["columns"] == ["size", "deals", "amount", "half"]
    rows = {r[0]: r for r in result["rows"]}
    assert set(rows) == {"big", "small"} and float(rows["big"][3]) == 500
