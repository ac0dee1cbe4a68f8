#!/usr/bin/env bash
# `make test`: lint, then the whole suite on SQLite and PostgreSQL (a throw-away
# cluster unless METABIZ_TEST_POSTGRES_URL is given). Fails when no test ran.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export PATH="$PWD/$VENV/bin:$PATH"
pgdir=""
cleanup() { [ -n "$pgdir" ] && bash scripts/pg_cluster.sh stop "$pgdir"; }
trap cleanup EXIT
if [ -z "${METABIZ_TEST_POSTGRES_URL:-}" ]; then
  pgdir=$(mktemp -d /tmp/metabiz-pg.XXXXXX)
  if url=$(bash scripts/pg_cluster.sh start "$pgdir"); then
    export METABIZ_TEST_POSTGRES_URL="$url"
    echo "PostgreSQL test cluster: $url"
  elif [ "${CI:-}" = "true" ]; then
    echo "PostgreSQL could not start: failing (CI requires it)" >&2; exit 1
  else
    echo "warning: no PostgreSQL; PostgreSQL tests will be skipped" >&2; pgdir=""
  fi
fi
ruff check metabiz tests $(ls -d benchmarks 2>/dev/null) || exit 1
mypy || exit 1
lint-imports --no-cache --no-logo >/dev/null || { echo "import-linter: a layer imports one above it (see .importlinter)" >&2; exit 1; }
python -m pytest -p no:cacheprovider -n "${PYTEST_WORKERS:-2}" "$@"
rc=$?
if [ $rc -eq 5 ]; then echo "pytest ran no test: failing" >&2; exit 1; fi
# the benchmarks' quick forms must run (their ratios are printed, not judged); a run of
# chosen tests (`make test` with arguments) skips them
if [ $rc -eq 0 ] && [ $# -eq 0 ]; then VENV="$VENV" bash scripts/benchmarks.sh || rc=1; fi
exit $rc
