#!/usr/bin/env bash
# `make run`: initialise the SQLite database, install the CRM template with demo data
# (both idempotent), make sure an admin exists, print its login, and serve.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"
PORT="${PORT:-5000}"
mkdir -p instance
log=instance/setup.log
# The plans and loaded-record counts go to instance/setup.log; shown only on failure.
{
  "$BIN/metabiz" init &&
  "$BIN/metabiz" template install crm --demo-data &&
  "$BIN/metabiz" template install service --demo-data
} >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
echo "database ready: CRM and service templates with demo data (details: $log)"
pwfile=instance/admin_password
if [ ! -s "$pwfile" ]; then
  password=$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(12))')
  "$BIN/metabiz" users create admin --password "$password" --role admin \
    --display-name Administrator >/dev/null
  (umask 077; echo "$password" > "$pwfile")
fi
users=$("$BIN/metabiz" users list | awk 'NR > 1 && $1 != "admin" { print $1 }' | paste -sd ' ' -)
cat <<MSG

  metabiz is running on http://127.0.0.1:$PORT
  admin login:  admin / $(cat "$pwfile")
  demo users:   $users (password: demo)

MSG
exec "$BIN/metabiz" serve --host 127.0.0.1 --port "$PORT"
