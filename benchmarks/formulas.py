"""Compiled formulas (Python back end) vs hand-written Python doing the same Decimal work.

`python benchmarks/formulas.py [--quick]` (100k records, 10k with --quick); last line:
`compiled_vs_handwritten=<ratio>` (hand-written time / compiled time; goal >= 0.5).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sys
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from metabiz.formulas import (  # noqa: E402
    DictCatalog,
    EvalContext,
    FieldSpec,
    FType,
    check,
    compile_python,
)

NOW = dt.datetime(2024, 3, 15, 10, 30, tzinfo=dt.UTC)
CATALOG = DictCatalog({"deal": {
    "amount": FieldSpec("amount", FType.NUMBER), "discount": FieldSpec("discount", FType.NUMBER),
    "qty": FieldSpec("qty", FType.NUMBER), "name": FieldSpec("name", FType.TEXT),
    "stage": FieldSpec("stage", FType.PICKLIST), "region": FieldSpec("region", FType.PICKLIST),
    "close": FieldSpec("close", FType.DATE),
}})
CENT = Decimal("0.01")
STAGES = ["prospecting", "negotiation", "closed_won", "closed_lost"]


def _round2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def net_amount(r: dict[str, Any]) -> Decimal | None:
    amount, discount, qty = r["amount"], r["discount"], r["qty"]
    if amount is None or discount is None or qty is None:
        return None
    return _round2(amount * (1 - discount / 100) * qty)


def probability(r: dict[str, Any]) -> Decimal:
    stage = r["stage"]
    if stage == "prospecting":
        return Decimal("0.1")
    if stage == "negotiation":
        amount = r["amount"]
        return Decimal("0.6") if amount is not None and amount > 10000 else Decimal("0.5")
    if stage == "closed_won":
        return Decimal(1)
    return Decimal(0)


def code(r: dict[str, Any]) -> str | None:
    name, region = r["name"] or "", r["region"] or ""
    return (name[:3].upper() + "-" + region) or None


def days_to_month_end(r: dict[str, Any]) -> Decimal | None:
    close = r["close"]
    if close is None:
        return None
    if close.month == 12:
        start = dt.date(close.year + 1, 1, 1)
    else:
        start = dt.date(close.year, close.month + 1, 1)
    return Decimal((start - close).days)


def qualifies(r: dict[str, Any]) -> bool:
    region, amount = r["region"], r["amount"]
    return ((not region or region == "emea") and r["close"] is not None
            and amount is not None and amount >= 1000)


FORMULAS: list[tuple[str, str, Callable[[dict[str, Any]], Any]]] = [
    ("currency", "ROUND(amount * (1 - discount / 100) * qty, 2)", net_amount),
    ("picklist_case", 'CASE(stage, "prospecting", 0.1, "negotiation", '
                      'IF(amount > 10000, 0.6, 0.5), "closed_won", 1, 0)', probability),
    ("text", 'UPPER(LEFT(name, 3)) & "-" & region', code),
    ("dates", "IF(MONTH(close) = 12, DATE(YEAR(close) + 1, 1, 1), "
              "DATE(YEAR(close), MONTH(close) + 1, 1)) - close", days_to_month_end),
    ("logic", 'AND(OR(ISBLANK(region), region = "emea"), NOT(ISBLANK(close)), '
              'amount >= 1000)', qualifies),
]


def records(n: int) -> list[dict[str, Any]]:
    rng = random.Random(42)
    out = []
    for i in range(n):
        blank = i % 17 == 0
        out.append({
            "amount": None if blank else Decimal(rng.randint(0, 5_000_000)) / 100,
            "discount": Decimal(rng.randint(0, 30)), "qty": Decimal(rng.randint(1, 9)),
            "name": f"客户 deal {i}", "stage": rng.choice(STAGES),
            "region": None if i % 5 == 0 else rng.choice(["emea", "apac", "amer"]),
            "close": None if blank else dt.date(2024, 1, 1) + dt.timedelta(days=i % 730),
        })
    return out


def timed_pair(ours: Callable[[], Any], base: Callable[[], Any],
               rounds: int = 5) -> tuple[float, float]:
    """Best of `rounds` for each, run alternately so both see the same machine load."""
    best = [math.inf, math.inf]
    for _ in range(rounds):
        for i, fn in enumerate((ours, base)):
            started = time.process_time()
            fn()
            best[i] = min(best[i], time.process_time() - started)
    return best[0], best[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k records instead of 100k")
    n = 10_000 if parser.parse_args().quick else 100_000
    rows = records(n)
    compiled = [(name, compile_python(check(source, CATALOG, "deal")), hand)
                for name, source, hand in FORMULAS]
    contexts = [EvalContext(record=r, now=NOW) for r in rows]
    for r, ctx in zip(rows, contexts, strict=True):
        for name, run, hand in compiled:
            assert run(ctx) == hand(r), (name, r)  # same work, same answers

    print(f"records={n}")
    ratios = []
    for name, run, hand in compiled:
        ours, base = timed_pair(lambda run=run: [run(ctx) for ctx in contexts],
                                lambda hand=hand: [hand(r) for r in rows])
        ratios.append(base / ours)
        print(f"{name}: compiled={ours * 1e6 / n:.2f}us handwritten={base * 1e6 / n:.2f}us "
              f"ratio={base / ours:.2f}")

    def all_compiled() -> None:
        for r in rows:
            ctx = EvalContext(record=r, now=NOW)  # one context per record, as on read
            for _, run, _ in compiled:
                run(ctx)

    def all_handwritten() -> None:
        for r in rows:
            for _, _, hand in compiled:
                hand(r)

    ours, base = timed_pair(all_compiled, all_handwritten)
    print(f"all_five: compiled={ours:.3f}s handwritten={base:.3f}s ratio={base / ours:.2f}")
    print(f"geometric_mean_ratio={math.prod(ratios) ** (1 / len(ratios)):.2f}")
    print(f"compiled_vs_handwritten={base / ours:.2f}")


if __name__ == "__main__":
    main()
