#!/bin/sh
# Writes random secrets for deploy/compose.yaml into deploy/compose/secrets/
# (git ignores them). Run once before `docker compose up`.
set -eu
dir="$(dirname "$0")/secrets"
mkdir -p "$dir"
umask 077
rand() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
[ -f "$dir/db_password" ] || rand > "$dir/db_password"
printf 'postgres://enrol:%s@db:5432/enrol\n' "$(cat "$dir/db_password")" > "$dir/database_url"
for name in gov_app_key wang_fang_token prometheus_token; do
    [ -f "$dir/$name" ] || rand > "$dir/$name"
done
echo "secrets written to $dir"
