"""The reports' API and pages: results as JSON, 400/403/404 as the contract says, CSV and XLSX
downloads, report and dashboard pages, the drill-down to the records and the home dashboard."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape
from urllib.parse import parse_qs, urlparse

from openpyxl import load_workbook


def test_api_lists_runnable_reports(call):
    names = [r["api_name"] for r in call("alice", "/api/v1/reports").get_json()["reports"]]
    assert sorted(names) == ["by_month", "costs", "pipeline", "totals"]
    assert call("sam", "/api/v1/reports").get_json() == {"reports": []}


def test_api_runs_a_report_for_the_caller(call):
    body = call("alice", "/api/v1/reports/pipeline").get_json()
    assert body["columns"] == ["stage", "deals", "amount", "weighted"]
    assert body["rows"] == [["prospecting", 2, 100.1, 10.01], ["negotiation", 1, 200.2, 100.1]]
    assert body["totals"] == {"deals": 3, "amount": 300.3, "weighted": 110.11}


def test_api_filter_narrows_and_a_bad_one_is_a_400_with_line_and_column(call):
    body = call("admin", "/api/v1/reports/pipeline", filter="amount > 150").get_json()
    assert body["rows"] == [["negotiation", 2, 1200.2, 100.1]]
    bad = call("admin", "/api/v1/reports/pipeline", filter="amount >> 1")
    assert bad.status_code == 400
    error = bad.get_json()["error"]
    assert error["code"] == "bad_request"
    assert re.search(r"1:\d+", str(error))


def test_api_refuses_hidden_fields_and_unknown_reports(call):
    hidden = call("alice", "/api/v1/reports/costs")
    assert hidden.status_code == 403
    assert hidden.get_json()["error"]["fields"] == {"cost": ["hidden for your role"]}
    assert call("alice", "/api/v1/reports/nope").status_code == 404
    assert call("sam", "/api/v1/reports/pipeline").status_code == 404


def test_api_dashboard_carries_each_components_result(call):
    body = call("alice", "/api/v1/dashboards/sales_home").get_json()
    parts = {c["report"]: c for c in body["components"]}
    assert parts["pipeline"]["result"]["totals"]["deals"] == 3
    assert parts["by_month"]["chart"] == {"type": "line", "x": "close_date", "y": ["deals"],
                                          "horizontal": False}
    assert parts["costs"]["error"]["code"] == "forbidden"
    assert call("sam", "/api/v1/dashboards/sales_home").status_code == 404
    listed = call("alice", "/api/v1/dashboards").get_json()["dashboards"]
    assert [d["api_name"] for d in listed] == ["sales_home"]


def test_csv_and_xlsx_downloads(call):
    response = call("alice", "/api/v1/reports/pipeline/export", format="csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="pipeline.csv"'
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert lines == [["Stage", "Deals", "Amount", "Weighted"],
                     ["Prospecting", "2", "100.1", "10.01"],
                     ["Negotiation", "1", "200.2", "100.1"],
                     ["Total", "3", "300.3", "110.11"]]
    response = call("alice", "/api/v1/reports/pipeline/export", format="xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in sheet[2]] == ["Prospecting", 2, 100.1, 10.01]
    assert [c.value for c in sheet[4]] == ["Total", 3, 300.3, 110.11]
    assert call("alice", "/api/v1/reports/pipeline/export", format="pdf").status_code == 400


def test_report_page_links_each_row_to_its_records(client, browser_session):
    browser_session(client, "alice")
    page = client.get("/reports/pipeline")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Pipeline by stage" in html and "Prospecting" in html
    assert "vendor/echarts/echarts.min.js" in html
    links = [unescape(h) for h in re.findall(r'<a href="(/o/deal\?filter=[^"]+)"', html)]
    assert len(links) == 2
    records = client.get(links[1])  # negotiation: alice's d2 only
    listed = records.get_data(as_text=True)
    assert records.status_code == 200
    assert ">d2<" in listed and ">d1<" not in listed and ">d5<" not in listed
    formula = parse_qs(urlparse(links[1]).query)["filter"][0]
    assert 'ISPICKVAL(stage, "negotiation")' in formula


def test_report_page_shows_a_bad_filter_where_it_is(client, browser_session):
    browser_session(client, "alice")
    page = client.get("/reports/pipeline", query_string={"filter": "amount >"})
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "The filter was not applied" in html and "1:" in html
    assert "Prospecting" in html  # the report itself still shows


def test_report_page_in_chinese(client, browser_session):
    browser_session(client, "alice")
    html = client.get("/reports/pipeline?lang=zh").get_data(as_text=True)
    assert "各阶段商机" in html and "初步接洽" in html and "下载 Excel" in html


def test_dashboard_page_and_home_panel(client, browser_session):
    browser_session(client, "alice")
    html = client.get("/dashboards/sales_home").get_data(as_text=True)
    assert "Pipeline by stage" in html and "This chart cannot be shown to you" in html
    home = client.get("/").get_data(as_text=True)
    assert 'href="/dashboards/sales_home"' in home  # the panel and the navigation
    assert "report-home" in home and 'data-report-chart="data-c0"' in home
    index = client.get("/reports").get_data(as_text=True)
    assert "Amount by close month and stage" in index


def test_no_reports_no_navigation(client, browser_session):
    browser_session(client, "sam")
    home = client.get("/").get_data(as_text=True)
    assert "/reports" not in home and "report-home" not in home


def test_report_page_refuses_a_filter_on_a_hidden_field_under_the_box(client, browser_session):
    browser_session(client, "alice")
    page = client.get("/reports/pipeline", query_string={"filter": "cost > 0"})
    assert page.status_code == 403
    html = page.get_data(as_text=True)
    assert "The filter was not applied" in html and "cost" in html
    assert client.get("/reports/costs").status_code == 403  # the report itself: the 403 page


def test_the_report_command(dealapp, db_url, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from metabiz.cli import main

    monkeypatch.chdir(tmp_path)

    def run(*args: str):
        return CliRunner().invoke(main, ["report", "--database-url", db_url, *args])

    table = run("pipeline", "--as", "alice")
    assert table.exit_code == 0, table.output
    assert table.output.splitlines()[2].split() == ["Prospecting", "2", "100.1", "10.01"]
    assert table.output.splitlines()[-1].split() == ["Total", "3", "300.3", "110.11"]
    as_json = json.loads(run("pipeline", "--format", "json", "--filter", "amount > 150").output)
    assert as_json["rows"] == [["negotiation", 2, 1200.2, 100.1]]
    hidden = run("costs", "--as", "alice")
    assert hidden.exit_code == 1 and "hidden for your role" in hidden.output
    bad = run("pipeline", "--filter", "amount >")
    assert bad.exit_code == 1 and "1:" in bad.output


def test_a_download_cut_at_the_limit_says_its_totals_cover_every_group(work):
    from metabiz.reports.compiled import compile_report
    from metabiz.reports.definitions import build_report
    from metabiz.reports.downloads import table
    from metabiz.reports.engine import run

    doc = {"api_name": "top_stages", "object": "deal", "group_by": [{"field": "stage"}],
           "measures": [{"api_name": "n", "function": "count"}], "sort": "-n", "limit": 2}
    with work() as ctx:
        result = run(ctx, compile_report(build_report(doc), ctx.schema, "UTC", []))
    assert table(result, "en")[1][-1] == ["Total of all 4 groups (the first 2 are listed)", 7]
    assert table(result, "zh")[1][-1] == ["全部 4 组的合计（仅列出前 2 组）", 7]
