"""Creating one record: the generic POST /api/v1/records/deal vs a hand-written endpoint.

Each request inserts one validated deal (formula computed, validation rule run, the new
record returned); both sides alternately over several rounds (see _duel.py). Last line:
`generic_vs_handwritten=<ratio>` (requests/s; goal >= 0.8).
`python benchmarks/record_create.py [--quick] [--database-url URL]`
"""

from __future__ import annotations

from _duel import Side, duel, options, prepared, random_deal, report, servers


def main() -> None:
    args = options(__doc__, "fewer requests and rounds")
    rounds = args.rounds or (2 if args.quick else 5)
    requests = 80 if args.quick else 400
    engine, token = prepared(args.database_url, 1_000)
    with servers(engine) as (generic_server, hand_server):
        generic = Side(generic_server, lambda rng: ("POST", "/api/v1/records/deal",
                                                  random_deal(rng)), expect=201)
        handwritten = Side(hand_server, lambda rng: ("POST", "/deals", random_deal(rng)),
                           expect=201)
        ratio = duel("create", generic, handwritten, token, requests=requests,
                     rounds=rounds)
    report({"create": ratio}, args.database_url, goal=0.8)


if __name__ == "__main__":
    main()
