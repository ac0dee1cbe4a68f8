"""The list page: the generic GET /o/deal (HTML) vs a hand-written Jinja page.

2,000 deals (quick: 1,000), the first pages of 25 rows, newest first; the generic page
with its shell (navigation, panels) — both sides alternately over several rounds (see
_duel.py). Last line: `generic_vs_handwritten=<ratio>` (requests/s; goal >= 0.6).
`python benchmarks/page_list.py [--quick] [--database-url URL]`
"""

from __future__ import annotations

from _duel import Side, duel, options, prepared, report, servers


def main() -> None:
    args = options(__doc__, "1k rows, fewer requests and rounds")
    rounds = args.rounds or (2 if args.quick else 5)
    rows, requests = (1_000, 80) if args.quick else (2_000, 400)
    engine, token = prepared(args.database_url, rows)
    with servers(engine) as (generic_server, hand_server):
        generic = Side(generic_server, lambda rng: (
            "GET", f"/o/deal?page={1 + rng.randrange(3)}", None))
        handwritten = Side(hand_server, lambda rng: (
            "GET", f"/page/deals?page={1 + rng.randrange(3)}", None))
        ratio = duel("list page", generic, handwritten, token, requests=requests,
                     rounds=rounds)
    report({"page": ratio}, args.database_url, goal=0.6)


if __name__ == "__main__":
    main()
