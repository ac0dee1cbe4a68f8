#!/usr/bin/env bash
# The benchmarks' --quick forms, as `make test` runs them after the suite: each must run
# and print its ratios (the figures are not judged here: a shared CI machine is too noisy).
# On SQLite, and on PostgreSQL too when METABIZ_TEST_POSTGRES_URL is set.
# `bash scripts/benchmarks.sh [name ...]` (default: the ones listed in QUICK).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
QUICK=(api_list record_get record_create page_list)
names=("${@:-${QUICK[@]}}")
urls=("")
[ -n "${METABIZ_TEST_POSTGRES_URL:-}" ] && urls+=("$METABIZ_TEST_POSTGRES_URL")
status=0
for name in "${names[@]}"; do
  for url in "${urls[@]}"; do
    args=(--quick) where=sqlite
    [ -n "$url" ] && { args+=(--database-url "$url"); where=postgresql; }
    if out=$("$PY" "benchmarks/$name.py" "${args[@]}" 2>&1); then
      echo "benchmark $name ($where): $(grep -E '^generic_vs_handwritten=' <<<"$out")"
    else
      echo "benchmark $name ($where) failed:" >&2; tail -n 20 <<<"$out" >&2; status=1
    fi
  done
done
exit $status
