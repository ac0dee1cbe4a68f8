"""Formula fields giving times, locations, links and images, on SQLite and PostgreSQL.

The API gives a time as HH:MM:SS(.mmm), a location as latitude and longitude, a link or an
image as its URL; pages show a link by its label and an image as an image, escaped, and
never a `javascript:` URL. Filters and sorts on these fields run in the database.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from metabiz.app import create_app
from metabiz.objects import forms
from metabiz.objects.evolution import apply_path
from metabiz.platform.auth import create_token, create_user
from metabiz.platform.config import Config
from metabiz.platform.db import writer

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "shop"
TEA = {"name": "Tea <b>", "ordered_on": "2026-09-30", "opens_at": "2026-10-10T09:30:15Z",
       "latitude": 31.2304, "longitude": 121.4737, "website": "javascript:alert(1)"}
COFFEE = {"name": "Coffee", "ordered_on": "2026-09-28", "opens_at": "2026-10-10T08:00:00.125Z",
          "latitude": 39.9042, "longitude": 116.4074,
          "website": "https://example.com/shop?a=1&b=2"}


@pytest.fixture
def client(engine, extensions, db_url, tmp_path):
    apply_path(engine, SHOP, extensions=extensions)
    with writer(engine).begin() as conn:
        create_user(conn, "admin", "admin-pw", roles=["admin"])
        token = create_token(conn, "admin")
    app = create_app(Config(database_url=db_url, secret_key="test", instance_path=tmp_path,
                            testing=True))
    test_client = app.test_client()
    test_client.token = token  # type: ignore[attr-defined]
    yield test_client
    app.extensions["metabiz"].engine.dispose()


def api(client, method, path, body=None):
    headers = {"Authorization": f"Bearer {client.token}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    response = client.open(f"/api/v1{path}", method=method, headers=headers,
                           data=json.dumps(body) if body is not None else None)
    assert response.status_code < 300, response.get_json()
    return response.get_json()


def signed_in(client):
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]
    client.post("/login", data={"username": "admin", "password": "admin-pw",
                                "csrf_token": csrf})
    return client


def names(client, **query) -> list[str]:
    args = "&".join(f"{k}={v}" for k, v in query.items())
    return [r["name"] for r in api(client, "GET", f"/records/purchase?{args}")["records"]]


def test_times_locations_links_and_images_through_the_api(client):
    tea = api(client, "POST", "/records/purchase", TEA)
    coffee = api(client, "POST", "/records/purchase", COFFEE)
    assert (tea["opens"], coffee["opens"]) == ("09:30:15", "08:00:00.125")
    assert tea["place"] == {"latitude": 31.2304, "longitude": 121.4737}
    assert tea["page"] == f"/o/purchase/{tea['id']}"  # a link is its URL
    assert tea["photo"] == "https://img.example.com/p.png?a=1&b=<2>"
    assert (tea["site"], coffee["site"]) == (None, "https://example.com/shop?a=1&b=2")
    assert api(client, "GET", f"/records/purchase/{tea['id']}")["opens"] == "09:30:15"

    # in the database too: the time keeps its milliseconds, the link is its URL
    assert names(client, filter="HOUR(opens) = 9") == ["Tea <b>"]
    assert names(client, filter="MILLISECOND(opens) = 125") == ["Coffee"]
    assert names(client, sort="opens") == ["Coffee", "Tea <b>"]
    assert names(client, filter='CONTAINS(TEXT(site), "example.com")') == ["Coffee"]
    assert names(client, filter="ISBLANK(site)") == ["Tea <b>"]
    assert names(client, filter='DISTANCE(place, GEOLOCATION(39.9, 116.4), "km") < 10') == \
        ["Coffee"]

    schema = api(client, "GET", "/openapi.json")["components"]["schemas"]["purchase"]
    props = schema["properties"]
    assert props["place"]["type"] == ["object", "null"]  # a stored value may be blank
    assert set(props["place"]["properties"]) == {"latitude", "longitude"}
    assert (props["page"]["format"], props["photo"]["format"]) == ("uri-reference",) * 2
    assert re.fullmatch(props["opens"]["pattern"], "08:00:00.125")
    assert all(props[n]["readOnly"] for n in ("opens", "place", "page", "photo"))


def test_pages_show_links_by_label_and_images_escaped(client):
    tea = api(client, "POST", "/records/purchase", TEA)
    api(client, "POST", "/records/purchase", COFFEE)
    signed_in(client)
    for path in (f"/o/purchase/{tea['id']}", f"/o/purchase/{tea['id']}/edit",
                 "/o/purchase?view=all"):
        page = client.get(path).get_data(as_text=True)
        assert f'<a href="/o/purchase/{tea["id"]}">Open Tea &lt;b&gt;</a>' in page, path
        assert ('<img src="https://img.example.com/p.png?a=1&amp;b=&lt;2&gt;" '
                'alt="photo of &lt;Tea &lt;b&gt;&gt;">') in page, path
        assert 'href="javascript' not in page.lower(), path
        assert "<b>" not in page, path
        assert "09:30:15" in page and "31.2304, 121.4737" in page, path
    listed = client.get("/o/purchase?view=all").get_data(as_text=True)
    assert '<a href="https://example.com/shop?a=1&amp;b=2">Website</a>' in listed
    assert "08:00:00<" in listed  # a time shows HH:MM:SS

    # a list view filtered on the calendar: only Tea ships on the worked Saturday
    saturday = client.get("/o/purchase?view=ships_saturday").get_data(as_text=True)
    assert "Tea &lt;b&gt;" in saturday and "Coffee" not in saturday


@pytest.mark.parametrize(("widget", "value", "shown"), [
    ("link", "javascript:alert(1)", ""),
    ("link", " JavaScript:alert(1)", ""),
    ("image", "data:image/png;base64,AAAA", ""),
    ("link", "/o/purchase/1", "/o/purchase/1"),
    ("image", "https://x.example/a.png", '<img src="https://x.example/a.png" alt="">'),
    ("time", "17:30:45.125", "17:30:45"),
    ("location", {"latitude": 31.2304, "longitude": 121.4737}, "31.2304, 121.4737"),
])
def test_a_value_given_as_json_is_shown_safely(widget, value, shown):
    """A link or image value that reaches a page as text (its URL) is checked again."""
    assert forms.display(None, value, lang="en", widget=widget).text == shown
