"""Listing records: the generic GET /api/v1/records/<object> vs a hand-written endpoint.

Two scenarios, each both sides alternately over several rounds (see _duel.py):
`small` — 2,000 rows, first pages sorted by id, where the platform's own work dominates;
`large` — 100k rows sorted by an unindexed column, where the database's sort does.
Last line: `generic_vs_handwritten=<lower ratio>` (requests/s; goal >= 0.8).
`python benchmarks/api_list.py [--quick] [--database-url URL]`
"""

from __future__ import annotations

from _duel import Side, duel, options, prepared, report, servers


def scenario(name: str, url: str | None, rows: int, sort: str, pages: int, requests: int,
             rounds: int) -> float:
    engine, token = prepared(url, rows)
    with servers(engine) as (generic_server, hand_server):
        generic = Side(generic_server, lambda rng: (
            "GET", f"/api/v1/records/deal?sort={sort}&limit=50&offset="
                   f"{50 * rng.randrange(pages)}", None))
        handwritten = Side(hand_server, lambda rng: (
            "GET", f"/deals?sort={sort}&limit=50&offset={50 * rng.randrange(pages)}", None))
        ratio = duel(f"{name}: {rows} rows, sort={sort}", generic, handwritten, token,
                     requests=requests, rounds=rounds)
    engine.dispose()
    return ratio


def main() -> None:
    args = options(__doc__, "1k / 10k rows, fewer requests and rounds")
    rounds = args.rounds or (2 if args.quick else 5)
    small, large, requests = (1_000, 10_000, 80) if args.quick else (2_000, 100_000, 400)
    ratios = {
        "small": scenario("small", args.database_url, small, "-id", 3, requests, rounds),
        "large": scenario("large", args.database_url, large, "-amount", 100, requests // 4,
                          rounds),
    }
    report(ratios, args.database_url, goal=0.8)


if __name__ == "__main__":
    main()
