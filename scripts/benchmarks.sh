#!/usr/bin/env bash
# The benchmarks' --quick forms, as `make test` runs them after the suite: each must run
# and print its ratios (the figures are not judged here: a shared CI machine is too noisy).
# On SQLite, and on PostgreSQL too when METABIZ_TEST_POSTGRES_URL is set.
# `bash scripts/benchmarks.sh [name ...]` (default: every benchmark below).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
# run once per database (--database-url)
PER_DATABASE=(api_list record_get record_create page_list reports evolution worker)
# run once: they measure both databases themselves (METABIZ_TEST_POSTGRES_URL), or none
ONCE=(records_insert import formulas)
names=("${@:-${PER_DATABASE[@]} ${ONCE[@]}}")
status=0
run() {  # name where args...
  local name=$1 where=$2 out
  shift 2
  if out=$("$PY" "benchmarks/$name.py" --quick "$@" 2>&1); then
    echo "benchmark $name ($where): $(grep -E '^[a-z_]+_vs_[a-z_]+=|ratio=' <<<"$out" | tr '\n' ' ')"
  else
    echo "benchmark $name ($where) failed:" >&2; tail -n 20 <<<"$out" >&2; status=1
  fi
}
for name in ${names[@]}; do
  if [[ " ${ONCE[*]} " == *" $name "* ]]; then
    run "$name" "every database"
    continue
  fi
  run "$name" sqlite
  [ -n "${METABIZ_TEST_POSTGRES_URL:-}" ] && run "$name" postgresql --database-url "$METABIZ_TEST_POSTGRES_URL"
done
exit $status
