"""The kernel's extension points, used the way a new package would use them.

A test package registers a home panel, a record panel, a navigation section, a metadata
check and a command; each shows up where a user would see it, with no change to the kernel.
"""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner
from markupsafe import escape

from metabiz.app import create_app, wiring
from metabiz.cli import build_main
from metabiz.objects.evolution import apply_path
from metabiz.platform.cli import CliEnv, command
from metabiz.platform.config import Config
from metabiz.platform.extensions import NavLink, NavSection, Panel, Wiring


def test_package_wiring() -> Wiring:
    """Every real package plus a small test package registering one of everything."""
    wired = wiring()
    ext = wired.extensions
    ext.add_panel(Panel("greeting", "home", lambda actor: f"<p id='hello'>Hello {actor.name}</p>"))
    ext.add_panel(Panel("stamp", "record",
                        lambda ctx, obj, record: f"<p id='stamp'>{escape(obj.name)} "
                                                 f"#{record['id']} seen by {ctx.actor.name}</p>"))
    ext.add_panel(Panel("nothing", "record", lambda ctx, obj, record: None))
    ext.add_nav(NavSection("help", lambda actor: [NavLink("/help", "Help desk")],
                           heading="menu", order=90))
    ext.add_check(lambda schema: [f"objects/{name}.json: /: test check refuses {name}"
                                  for name in schema.objects if name == "line_item"])

    @command(name="hello")
    @click.argument("who")
    def hello(env: CliEnv, who: str) -> None:
        """Say hello (a command of the test package)."""
        click.echo(f"hello {who} on {env.config.database_url}")

    ext.add_command(hello)
    return wired


# pytest collects functions named test_*: this one is a helper, not a test
test_package_wiring.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def client(sales, db_url, tmp_path, browser_session):
    app = create_app(Config(database_url=db_url, secret_key="t", instance_path=tmp_path,
                            testing=True), test_package_wiring())
    client = app.test_client()
    browser_session(client, "alice")
    yield client
    app.extensions["metabiz"].engine.dispose()


def test_a_registered_home_panel_and_nav_section_show_up(client):
    page = client.get("/").get_data(as_text=True)
    assert "<p id='hello'>Hello alice</p>" in page
    # the real packages' panels and sections are still there, in their order
    assert page.index("pending-title") < page.index("objects-title")
    nav = re.findall(r'data-nav="(\w+)"', page)
    assert nav == ["home", "approvals", "objects", "help"]
    assert '<a href="/help"' in page and "Help desk" in page


def test_a_registered_record_panel_shows_on_the_detail_page(client):
    made = client.post("/api/v1/records/opportunity", json={"name": "Deal", "amount": 5},
                       headers={"X-CSRF-Token": _token(client)})
    assert made.status_code == 201, made.get_json()
    deal = made.get_json()["id"]
    page = client.get(f"/o/opportunity/{deal}").get_data(as_text=True)
    assert f"<p id='stamp'>opportunity #{deal} seen by alice</p>" in page


def test_a_registered_metadata_check_refuses_an_apply(engine, sales_dir):
    with pytest.raises(Exception) as refused:
        apply_path(engine, sales_dir, extensions=test_package_wiring().extensions)
    assert "objects/line_item.json: /: test check refuses line_item" in str(refused.value)


def test_a_registered_command_joins_the_metabiz_group(db_url):
    result = CliRunner().invoke(build_main(test_package_wiring()),
                                ["hello", "world", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"hello world on {db_url}"
    listing = CliRunner().invoke(build_main(test_package_wiring()), ["--help"]).output
    assert "hello" in listing and "Say hello" in listing


def test_an_unknown_panel_slot_is_refused_at_start_up():
    with pytest.raises(ValueError, match="unknown panel slot 'sidebar'"):
        wiring().extensions.add_panel(Panel("x", "sidebar", lambda actor: None))


def _token(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]
