"""The hand-written baseline for api_list.py: one Flask + SQLAlchemy Core endpoint.

It does what the generic endpoint does for the `deal` object — token check, filter-free
page sorted by amount, total, weighted amount computed — and nothing more.
"""

from __future__ import annotations

import hashlib
import os
from decimal import Decimal

from flask import Flask, abort, jsonify, request
from sqlalchemy import MetaData, Table, create_engine, func, select

engine = create_engine(os.environ["METABIZ_DATABASE_URL"])
meta = MetaData()
deals = Table("obj_deal", meta, autoload_with=engine)
tokens = Table("sys_tokens", meta, autoload_with=engine)
app = Flask(__name__)


@app.get("/deals")
def list_deals():
    header = request.headers.get("Authorization", "")
    digest = hashlib.sha256(header.removeprefix("Bearer ").encode()).hexdigest()
    limit = min(int(request.args.get("limit", 50)), 1000)
    offset = int(request.args.get("offset", 0))
    with engine.connect() as conn:
        if conn.execute(select(tokens.c.id).where(tokens.c.token_hash == digest)).first() is None:
            abort(401)
        total = conn.execute(select(func.count()).select_from(deals)).scalar_one()
        rows = conn.execute(select(deals).order_by(deals.c.amount.desc(), deals.c.id)
                            .limit(limit).offset(offset)).mappings().all()
    out = []
    for row in rows:
        item = {k: v for k, v in row.items() if k != "locked"}
        for key in ("created_at", "updated_at"):
            item[key] = item[key].isoformat(timespec="seconds") + "Z"
        item["close_date"] = item["close_date"].isoformat() if item["close_date"] else None
        amount, probability = row["amount"], row["probability"]
        weighted = None
        if amount is not None and probability is not None:
            weighted = (Decimal(str(amount)) * Decimal(str(probability)) / 100).quantize(
                Decimal("0.01"))
        for key in ("amount", "probability"):
            item[key] = float(item[key]) if item[key] is not None else None
        item["weighted"] = float(weighted) if weighted is not None else None
        out.append(item)
    return jsonify({"records": out, "total": total})
