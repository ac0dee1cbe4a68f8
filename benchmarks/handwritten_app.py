"""The hand-written baselines of the API and page benchmarks: Flask + SQLAlchemy Core.

For the `deal` object they do what the generic paths do — token check, a page with its
total, one record, one validated insert, the list page as HTML — and nothing more.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask, abort, jsonify, request
from jinja2 import Environment
from sqlalchemy import MetaData, Table, create_engine, func, insert, select

engine = create_engine(os.environ["METABIZ_DATABASE_URL"])
meta = MetaData()
deals = Table("obj_deal", meta, autoload_with=engine)
tokens = Table("sys_tokens", meta, autoload_with=engine)
app = Flask(__name__)
STAGES = {"open": "Open", "won": "Won", "lost": "Lost"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SORTS = {"-amount": (deals.c.amount.desc(), deals.c.id), "-id": (deals.c.id.desc(),)}


def _signed_in(conn: Any) -> str:
    header = request.headers.get("Authorization", "")
    digest = hashlib.sha256(header.removeprefix("Bearer ").encode()).hexdigest()
    name = conn.execute(select(tokens.c.user_name).where(tokens.c.token_hash == digest)
                        ).scalar()
    if name is None:
        abort(401)
    return str(name)


def _weighted(amount: Any, probability: Any) -> Decimal | None:
    if amount is None or probability is None:
        return None
    return (Decimal(str(amount)) * Decimal(str(probability)) / 100).quantize(Decimal("0.01"))


def _json(row: Any) -> dict[str, Any]:
    item = {k: v for k, v in row.items() if k != "locked"}
    for key in ("created_at", "updated_at"):
        item[key] = item[key].isoformat(timespec="seconds") + "Z"
    item["close_date"] = item["close_date"].isoformat() if item["close_date"] else None
    weighted = _weighted(row["amount"], row["probability"])
    for key in ("amount", "probability"):
        item[key] = float(item[key]) if item[key] is not None else None
    item["weighted"] = float(weighted) if weighted is not None else None
    return item


def _page(conn: Any, sort: str, limit: int, offset: int) -> tuple[list[Any], int]:
    total = conn.execute(select(func.count()).select_from(deals)).scalar_one()
    rows = conn.execute(select(deals).order_by(*SORTS[sort]).limit(limit).offset(offset)
                        ).mappings().all()
    return rows, total


@app.get("/deals")
def list_deals() -> Any:
    limit = min(int(request.args.get("limit", 50)), 1000)
    offset = int(request.args.get("offset", 0))
    sort = request.args.get("sort", "-id")
    if sort not in SORTS:
        abort(400)
    with engine.connect() as conn:
        _signed_in(conn)
        rows, total = _page(conn, sort, limit, offset)
    return jsonify({"records": [_json(row) for row in rows], "total": total})


@app.get("/deals/<int:deal_id>")
def get_deal(deal_id: int) -> Any:
    with engine.connect() as conn:
        _signed_in(conn)
        row = conn.execute(select(deals).where(deals.c.id == deal_id)).mappings().first()
    if row is None:
        abort(404)
    return jsonify(_json(row))


def _number(errors: dict[str, list[str]], data: dict[str, Any], key: str) -> Decimal | None:
    raw = data.get(key)
    if raw is None:
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        errors[key] = ["not a number"]
        return None


@app.post("/deals")
def create_deal() -> Any:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400)
    errors: dict[str, list[str]] = {}
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = ["required"]
    elif len(name) > 120:
        errors["name"] = ["too long"]
    stage = data.get("stage", "open")
    if stage not in STAGES:
        errors["stage"] = ["not a value of the list"]
    amount = _number(errors, data, "amount")
    probability = _number(errors, data, "probability")
    close_date = None
    if data.get("close_date") is not None:
        try:
            close_date = dt.date.fromisoformat(data["close_date"])
        except (TypeError, ValueError):
            errors["close_date"] = ["not a date"]
    email = data.get("email")
    if email is not None and (not isinstance(email, str) or not EMAIL.match(email)):
        errors["email"] = ["not an email address"]
    if amount is not None and amount < 0:
        errors.setdefault("amount", []).append("Amount cannot be negative")
    if errors:
        return jsonify({"error": {"code": "validation_error", "fields": errors}}), 422
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with engine.begin() as conn:
        user = _signed_in(conn)
        row = conn.execute(insert(deals).values(
            name=name, stage=stage, amount=amount, probability=probability,
            close_date=close_date, email=email, owner=user, approval_status="none",
            version=1, locked=False, created_by=user, updated_by=user, created_at=now,
            updated_at=now).returning(*deals.c)).mappings().one()
    response = jsonify(_json(row))
    response.status_code = 201
    response.headers["Location"] = f"/deals/{row['id']}"
    return response


PAGE = Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Deals</title><link rel="stylesheet" href="/static/app.css"></head>
<body><header class="topbar"><a class="brand" href="/">metabiz</a>
<span class="user-name">{{ user }}</span></header>
<div class="shell"><nav class="sidebar"><ul class="nav-list">
<li><a href="/">Home</a></li><li><a href="/page/deals" aria-current="page">Deals</a></li>
</ul></nav><main id="content"><header class="page-header"><h1>Deals</h1>
<a class="btn btn-primary" href="/page/deals/new">+ New</a></header>
<section class="card list-card"><form class="search-form" method="get" role="search">
<input type="search" name="q" placeholder="Search Deals"><button class="btn">Search</button>
</form><p class="list-count">Showing {{ first }}–{{ last }} of {{ total }}</p>
<table class="table"><thead><tr>{% for label in headers %}
<th scope="col"><a href="?sort={{ label | lower }}">{{ label }}</a></th>{% endfor %}
</tr></thead><tbody>{% for row in rows %}<tr>
<td><a href="/page/deals/{{ row.id }}">{{ row.name }}</a></td>
<td>{{ stages[row.stage] }}</td>
<td class="num">{{ money(row.amount) }}</td>
<td class="num">{{ row.probability if row.probability is not none else "" }}%</td>
<td>{{ row.close_date.isoformat() if row.close_date else "" }}</td>
<td><a href="mailto:{{ row.email }}">{{ row.email }}</a></td>
</tr>{% endfor %}</tbody></table>
<nav class="pager"><a class="btn" rel="next" href="?page={{ page + 1 }}">Next</a>
<span>Page {{ page }} of {{ pages }}</span></nav></section></main></div></body></html>""")


def _money(value: Any) -> str:
    return "" if value is None else f"{Decimal(str(value)):,.2f}"


@app.get("/page/deals")
def deals_page() -> Any:
    page = max(1, int(request.args.get("page", 1)))
    with engine.connect() as conn:
        user = _signed_in(conn)
        rows, total = _page(conn, "-id", 25, (page - 1) * 25)
    return PAGE.render(user=user, rows=rows, total=total, page=page,
                       pages=max(1, -(-total // 25)), first=(page - 1) * 25 + 1,
                       last=(page - 1) * 25 + len(rows), stages=STAGES, money=_money,
                       headers=["Name", "Stage", "Amount", "Probability", "Close date",
                                "Email"])
