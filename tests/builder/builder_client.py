"""Driving the builder from tests as its users do: signing in to its pages, pressing "Apply
changes" on a plan, reading a form's error under a control, calling the Metadata API."""

from __future__ import annotations

import html
import json
import re
from typing import Any


def signed_in(client: Any, user: str, browser_session: Any) -> str:
    """Sign `user` in; the CSRF token the pages carry."""
    browser_session(client, user)
    page = client.get("/").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]  # type: ignore[index]


def confirm(client: Any, plan_page: str) -> Any:
    """Press "Apply changes" on a plan page (its hidden inputs posted back)."""
    form = plan_page[plan_page.index('action="/builder/apply"'):]
    data = {name: html.unescape(value) for name, value in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)}
    return client.post("/builder/apply", data=data)


def error_at(page: str, control: str) -> str:
    """The error text a form shows under `control` ("" when there is none)."""
    found = re.search(rf'id="e-{control}" role="alert">(.*?)</div>', page, re.S)
    if not found:
        return ""
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", found[1]).split()))


def call(client: Any, method: str, path: str, user: str = "admin", body: Any = None,
         headers: dict[str, str] | None = None) -> Any:
    """An API call with `user`'s bearer token (the `client` fixture's `tokens`), JSON in."""
    sent = {"Authorization": f"Bearer {client.tokens[user]}", **(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body)
        sent["Content-Type"] = "application/json"
    return client.open(f"/api/v1{path}", method=method, headers=sent, data=data)
