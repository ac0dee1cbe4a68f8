"""What an administrator new to the builder trips on: pickers that name things by their API
names, a first filtered list view that leaves the other records without a list, and labels
that do not read as sentences (found walking the builder as a Salesforce admin would)."""

from __future__ import annotations

import re

from builder_client import confirm, signed_in


def options(page: str, control: str) -> list[str]:
    """The texts of a select's options, as the page shows them."""
    select = re.search(rf'<select[^>]*name="{control}"[^>]*>(.*?)</select>', page, re.S)
    assert select, control
    return [" ".join(text.split()) for text in re.findall(r"<option[^>]*>([^<]*)</option>",
                                                          select[1])]


def test_field_pickers_name_fields_across_a_lookup_and_system_fields_by_their_labels(
        client, browser_session):
    signed_in(client, "admin", browser_session)
    page = client.get("/builder/reports/new?object=opportunity").get_data(as_text=True)
    shown = options(page, "group0_field")
    assert "Account › Industry (account.industry)" in shown  # labels, not account › industry
    assert "Owner (owner)" in shown and "Created (created_at)" in shown
    chinese = client.get("/builder/reports/new?object=opportunity&lang=zh").get_data(as_text=True)
    assert "负责人 (owner)" in options(chinese, "group0_field")


def test_the_new_object_form_offers_apps_and_roll_ups_offer_objects_by_their_labels(
        client, browser_session):
    signed_in(client, "admin", browser_session)
    page = client.get("/builder/objects/new?lang=zh").get_data(as_text=True)
    assert "自定义对象 (custom)" in options(page, "app")
    field = client.get("/builder/objects/account/fields/new").get_data(as_text=True)
    assert "商机 (opportunity)" in options(field, "child_object")  # ?lang=zh stays chosen


def test_a_first_filtered_list_view_comes_with_an_all_records_view(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    for name, amount in (("Small", 10), ("Big", 5000)):
        client.post("/api/v1/records/opportunity", json={"name": name, "amount": amount},
                    headers={"X-CSRF-Token": token})
    form = client.get("/builder/objects/opportunity/views/new").get_data(as_text=True)
    assert "All records" in form  # says so before saving
    plan = client.post("/builder/objects/opportunity/views/new", data={
        "csrf_token": token, "api_name": "big_deals", "label_en": "Big deals",
        "columns": ["name", "amount"], "filter": "amount > 1000"})
    confirm(client, plan.get_data(as_text=True))
    listed = client.get("/o/opportunity").get_data(as_text=True)
    assert "Small" in listed and "Big" in listed  # the default list still shows every record
    big = client.get("/o/opportunity?view=big_deals").get_data(as_text=True)
    assert "Big" in big and "Small" not in big
    # a second view is added as it is
    plan = client.post("/builder/objects/opportunity/views/new", data={
        "csrf_token": token, "api_name": "small_deals", "label_en": "Small deals",
        "columns": ["name"], "filter": "amount < 100"})
    confirm(client, plan.get_data(as_text=True))
    page = client.get("/builder/objects/opportunity").get_data(as_text=True)
    assert page.count("/builder/objects/opportunity/views/all") == 1


def test_the_record_access_choice_reads_as_a_sentence(client, browser_session):
    signed_in(client, "admin", browser_session)
    page = client.get("/builder/roles/new").get_data(as_text=True)
    assert "Their own records and their team&#39;s" in options(page, "record_access")[0] or \
        "Their own records and their team's" in options(page, "record_access")


def test_a_list_view_offers_and_keeps_the_owner_and_other_system_columns(
        client, browser_session):
    token = signed_in(client, "admin", browser_session)
    form = client.get("/builder/objects/opportunity/views/new").get_data(as_text=True)
    assert re.search(r'value="owner"> Owner <code', form)  # offered, by its label
    plan = client.post("/builder/objects/opportunity/views/new", data={
        "csrf_token": token, "api_name": "mine", "label_en": "Deals and owners",
        "columns": ["name", "owner", "created_at"]})
    confirm(client, plan.get_data(as_text=True))
    page = client.get("/builder/objects/opportunity/views/mine").get_data(as_text=True)
    assert re.search(r'value="owner" checked> Owner <code', page)
    assert re.search(r'value="created_at" checked> Created <code', page)


def test_the_formula_editor_says_how_percent_fields_count(client, browser_session):
    """A Salesforce admin writes price * (1 - rate) and gets -19000 for a 20 % rate."""
    signed_in(client, "admin", browser_session)
    with_percent = client.get("/builder/objects/opportunity/fields/new").get_data(as_text=True)
    assert "a percent field counts in percent: 20 % is 20" in with_percent
    without = client.get("/builder/objects/account/fields/new").get_data(as_text=True)
    assert "counts in percent" not in without
