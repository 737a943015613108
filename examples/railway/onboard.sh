#!/usr/bin/env bash
# The Railway onboarding of the customer investigation, replayed with the
# suite: `uis onboard` of uis.yaml (then again: "no changes"), or with
# --five-commands the tutorial's five commands it runs underneath; then a
# check that the anon token and the staff tokens see what the RLS policies
# promise, then the doctor.
#
#   examples/railway/onboard.sh --sandbox   # starts and stops its own sandbox
#   examples/railway/onboard.sh --sandbox --five-commands   # the five commands instead
#   examples/railway/onboard.sh --sandbox --pg-version 17   # ... on PostgreSQL 17
#   examples/railway/onboard.sh --sandbox --topology proxied # ... UIS with an external server
#   examples/railway/onboard.sh             # the current kube context
#   examples/railway/onboard.sh --dir DIR   # works in DIR and keeps it (DIR/.env)
#
# Uses only the suite's commands: no kubectl, psql, base64 or openssl.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
sandbox=false
keep=
five=false
pg_version=()
topology=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sandbox) sandbox=true ;;
    --five-commands) five=true ;;
    --dir) [ $# -ge 2 ] || { echo "onboard.sh: --dir needs a directory" >&2; exit 2; }; keep=$2; shift ;;
    --pg-version) [ $# -ge 2 ] || { echo "onboard.sh: --pg-version needs a version (14 to 18)" >&2; exit 2; }
      pg_version=(--pg-version "$2"); shift ;;
    --topology) [ $# -ge 2 ] || { echo "onboard.sh: --topology needs incluster or proxied" >&2; exit 2; }
      topology=(--topology "$2"); shift ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "onboard.sh: unknown argument $1 (use --sandbox [--pg-version N] [--topology incluster|proxied], --five-commands, --dir DIR or nothing)" >&2; exit 2 ;;
  esac
  shift
done
if [ ${#pg_version[@]} -gt 0 ] && ! $sandbox; then
  echo "onboard.sh: --pg-version picks the sandbox's PostgreSQL: use it with --sandbox" >&2; exit 2
fi
if [ ${#topology[@]} -gt 0 ] && ! $sandbox; then
  echo "onboard.sh: --topology picks the sandbox's topology: use it with --sandbox" >&2; exit 2
fi

# The suite: `uis` on PATH (install.sh), else this checkout's build.
if ! command -v uis >/dev/null 2>&1; then
  bin=${UIS_BIN_DIR:-}
  if [ -z "$bin" ] || [ ! -x "$bin/uis" ]; then
    bin=${CARGO_TARGET_DIR:-$root/target}/debug
    if [ ! -x "$bin/uis" ]; then
      echo "onboard.sh: building the suite (cargo build --workspace --bins)" >&2
      (cd "$root" && cargo build -q --workspace --bins)
    fi
  fi
  export PATH="$bin:$PATH"
fi

if $sandbox; then
  sb=$(mktemp -d /tmp/uis-railway-sandbox.XXXXXX)
  trap '"$root/scripts/sandbox" down "$sb" >/dev/null 2>&1; rm -rf "$sb"' EXIT
  # (Not `eval "$(...)"`: a failing `up` must stop the script here.)
  exports=$("$root/scripts/sandbox" up "$sb" ${pg_version[@]+"${pg_version[@]}"} ${topology[@]+"${topology[@]}"}) \
    || { echo "onboard.sh: the sandbox did not start (see above)" >&2; exit 1; }
  eval "$exports"
fi

if [ -n "$keep" ]; then
  mkdir -p "$keep"
  work=$(cd "$keep" && pwd)
  rm -rf "$work/db"
else
  work=$(mktemp -d /tmp/uis-railway.XXXXXX)
  trap_work() { rm -rf "$work"; }
  if $sandbox; then trap '"$root/scripts/sandbox" down "$sb" >/dev/null 2>&1; rm -rf "$sb" "$work"' EXIT; else trap trap_work EXIT; fi
fi
cp -r "$here/db" "$work/db"
cp "$here/uis.yaml" "$work/uis.yaml"
cd "$work"

step() { printf '\n== %s\n' "$*" >&2; }

if ! $five; then
# An admin that is no superuser (managed services, UIS's proxied topology)
# cannot read whether 01-roles.sql's `authenticator` has a password of its
# own (pg_authid), and the suite never changes one it did not issue: there
# PostgREST logs in as the suite's own railway_authenticator instead.
if [ "$(uis db psql --as admin --format csv -c 'select rolsuper from pg_roles where rolname = current_user' | tail -n 1)" != t ]; then
  echo "the admin is not a superuser: PostgREST logs in as railway_authenticator, which the suite creates and owns" >&2
  sed '/^  authenticator: authenticator$/d' uis.yaml > uis.yaml.new && mv uis.yaml.new uis.yaml
fi
step "uis onboard: database, DDL, data, PostgREST, tokens and .env, as uis.yaml declares"
uis onboard --json >/dev/null
step "uis onboard again: nothing to do"
again=$(uis onboard --json)
case "$again" in
  *'"status":"unchanged"'*) echo "ok   a second run changes nothing" >&2 ;;
  *) echo "onboard.sh: FAIL: the second run was not unchanged: $again" >&2; exit 1 ;;
esac
else
step "1. database, owner, schemas and citext"
uis db configure railway --database railway --owner railway_owner --schemas railway,auth --extensions citext --json >/dev/null
step "2. the DDL: roles, schemas, tables, functions, RLS (as the superuser, each file once)"
uis db seed railway db/ --as admin --json >/dev/null
step "3. the data (as the owner)"
uis db seed railway db/seeds/ --json >/dev/null
step "4. PostgREST with the customer's role names"
# An admin that is no superuser (managed services, UIS's proxied topology)
# cannot read whether 01-roles.sql's `authenticator` has a password of its
# own (pg_authid), and the suite never changes one it did not issue: there
# PostgREST logs in as the suite's own railway_authenticator instead.
authenticator=(--authenticator authenticator)
if [ "$(uis db psql railway --as admin --format csv -c 'select rolsuper from pg_roles where rolname = current_user' | tail -n 1)" != t ]; then
  echo "the admin is not a superuser: PostgREST logs in as railway_authenticator, which the suite creates and owns" >&2
  authenticator=()
fi
uis postgrest deploy railway --schemas railway ${authenticator[@]+"${authenticator[@]}"} --anon-role anon --authenticated-role authenticated --grants none --json >/dev/null
step "5. tokens and the app's .env"
uis jwt mint railway --write-env .env >/dev/null
fi

step "check: what each token sees, exactly as PostgREST would run it"
count() { # TOKEN SQL
  uis db psql railway --jwt "$1" -c "$2" --format csv | tail -n 1
}
expect() { # WHAT GOT WANT
  if [ "$2" != "$3" ]; then echo "onboard.sh: FAIL: $1: got $2, want $3" >&2; exit 1; fi
  echo "ok   $1: $2" >&2
}
anon=$(uis jwt mint railway --role anon)
staff=$(uis jwt mint railway --role authenticated)
editor=$(uis jwt mint railway --role authenticated --capabilities content:edit)
expect "anon sees the public events" "$(count "$anon" 'select count(*) from events')" 3
expect "anon sees published pages" "$(count "$anon" 'select count(*) from pages')" 1
expect "full staff sees every event" "$(count "$staff" 'select count(*) from events')" 5
expect "full staff sees the registrations" "$(count "$staff" 'select count(*) from registrations')" 6
expect "editor sees public events only" "$(count "$editor" 'select count(*) from events')" 3
expect "editor sees no registrations" "$(count "$editor" 'select count(*) from registrations')" 0
expect "editor sees the draft page" "$(count "$editor" 'select count(*) from pages')" 2
expect "anon registers through the RPC" "$(count "$anon" "select railway.register(1, 'new@example.org') > 0")" t
grep -q '^POSTGREST_STAFF_JWT=' .env && grep -q '^POSTGREST_ANON_JWT=' .env && echo "ok   .env has the API URL, the JWT secret and both tokens" >&2

step "doctor"
uis db doctor railway >&2
echo "railway is onboarded" >&2
[ -z "$keep" ] || echo "the app's .env: $work/.env" >&2
