"""Reading one record: the generic GET /api/v1/records/deal/<id> vs a hand-written endpoint.

2,000 deals (quick: 1,000); random ids; both sides alternately over several rounds (see
_duel.py). Last line: `generic_vs_handwritten=<ratio>` (requests/s; goal >= 0.8).
`python benchmarks/record_get.py [--quick] [--database-url URL]`
"""

from __future__ import annotations

from _duel import Side, duel, options, prepared, report, servers


def main() -> None:
    args = options(__doc__, "1k rows, fewer requests and rounds")
    rounds = args.rounds or (2 if args.quick else 5)
    rows, requests = (1_000, 80) if args.quick else (2_000, 800)
    engine, token = prepared(args.database_url, rows)
    with servers(engine) as (generic_server, hand_server):
        generic = Side(generic_server, lambda rng: (
            "GET", f"/api/v1/records/deal/{rng.randrange(1, rows + 1)}", None))
        handwritten = Side(hand_server, lambda rng: (
            "GET", f"/deals/{rng.randrange(1, rows + 1)}", None))
        ratio = duel(f"get: {rows} rows", generic, handwritten, token, requests=requests,
                     rounds=rounds)
    report({"get": ratio}, args.database_url, goal=0.8)


if __name__ == "__main__":
    main()
