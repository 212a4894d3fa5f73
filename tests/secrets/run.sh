#!/usr/bin/env bash
# Secrets never leak: a full flow (build → sign → push → resolve → deploy dry
# run → deploy through the akash-console target, plus refused calls) with
# distinctive secret values — the registry password (htpasswd registry over
# TLS), each caller's bearer token (file tokens and one created in the
# database with shapin-tokens), the Akash Console API key, the image signing
# key (its PEM body lines and its private scalar in hex) — then every service
# log, every RPC reply and error (tests/secrets/flow.js), shapin-tokens'
# output, the files the services read, and every table of the database
# (pg_dump --data-only, rendered SDL and tfvars included) are searched for
# them.
#
#   tests/secrets/run.sh      (ctest: secrets_flow; SHAPIN_BUILD_DIR = binaries)
#
# Parts: a private scripts/stack (`up --no-services`: PostgreSQL and a plain
# registry holding the sample app's base image), a docker-registry with TLS
# and htpasswd (canonical and staging repositories), the fake Akash Console
# API (tests/fakes/akash-console) with its own API key, build-svc and
# deploy-svc started here on free ports. SHAPIN_SECRETS_KEEP=1 keeps the work
# dir.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build_dir="${SHAPIN_BUILD_DIR:-$repo/build}"
pg_bin=/usr/lib/postgresql/15/bin
host=127.0.0.1

work="$(mktemp -d "${TMPDIR:-/tmp}/shapin-secrets.XXXXXX")"
export SHAPIN_STACK_DIR="$work/stack"
mkdir -p "$work/logs"
pids=()

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if ((rc != 0)); then
    for f in "$work"/logs/*.log; do
      [ -f "$f" ] || continue
      echo "--- secrets: last lines of ${f##*/} ---"
      tail -n 30 "$f"
    done
  fi
  "$repo/scripts/stack" down >/dev/null || rc=1
  if [ "${SHAPIN_SECRETS_KEEP:-0}" = 1 ]; then echo "secrets: kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() { echo "secrets: error: $*" >&2; exit 1; }
for b in build-svc/build-svc deploy-svc/deploy-svc cli/tokens/shapin-tokens; do
  [ -x "$build_dir/$b" ] || die "$build_dir/$b missing (build it, or set SHAPIN_BUILD_DIR)"
done

free_ports() {
  node -e '
    const net = require("net"); const n = Number(process.argv[1]); const s = [];
    for (let i = 0; i < n; i++) { const x = net.createServer(); x.listen(0, "127.0.0.1", () => {
      s.push(x); if (s.length === n) { console.log(s.map((y) => y.address().port).join(" ")); s.forEach((y) => y.close()); } }); }' "$1"
}
rand() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
wait_tcp() {
  local i
  for ((i = 0; i < 300; i++)); do
    (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  die "nothing listens on $host:$1"
}

# --- the secrets: distinctive, so a hit is never a coincidence ------------------
registry_password="RegPw-$(rand)-secret"
token_builder="TokBuilder-$(rand)-secret"
token_deployer="TokDeployer-$(rand)-secret"
token_viewer="TokViewer-$(rand)-secret"
console_api_key="ConsoleKey-$(rand)-secret"
secrets=("$registry_password" "$token_builder" "$token_deployer" "$token_viewer" "$console_api_key")
# The signing key is random anyway: its secrets are the base64 lines of the
# PEM body and the private scalar as hex (added below, once generated).
signing_key="$work/signing-key.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$signing_key" 2>/dev/null
mapfile -t key_lines < <(grep -v '^-----' "$signing_key" | awk 'length($0) >= 16')
((${#key_lines[@]} >= 2)) || die "unexpected PEM layout of $signing_key"
key_scalar="$(openssl pkey -in "$signing_key" -text -noout 2>/dev/null |
  awk '/^priv:/ {on = 1; next} /^[a-zA-Z]/ {on = 0} on' | tr -d ' :\n' | sed 's/^00//')"
[ "${#key_scalar}" = 64 ] || die "could not read the private scalar of $signing_key (got ${#key_scalar} hex digits)"
secrets+=("${key_lines[@]}" "$key_scalar")

# --- PostgreSQL and a plain registry for the base image ----------------------
"$repo/scripts/stack" up --no-services >"$work/logs/stack.log" 2>&1 || { cat "$work/logs/stack.log"; die "stack up failed"; }
set -a
# shellcheck source=/dev/null
. "$SHAPIN_STACK_DIR/env"
set +a
base_image="$("$repo/tests/fixtures/make-base-image" "$REGISTRY" 2>"$work/logs/base-image.log" | tail -n1)"

read -r reg_port build_port build_metrics deploy_port deploy_metrics <<<"$(free_ports 5)"

# --- a bearer token in the database, made with shapin-tokens ------------------
# Its stdout (the token) is captured here; its stderr goes to a searched log.
token_db="$("$build_dir/cli/tokens/shapin-tokens" --database-url "$DATABASE_URL" --by secrets-test \
  create --name secrets-dbtoken --roles deployer,viewer 2>"$work/logs/shapin-tokens.log")" ||
  { cat "$work/logs/shapin-tokens.log"; die "shapin-tokens create failed"; }
[ -n "$token_db" ] || die "shapin-tokens printed no token"
secrets+=("$token_db")
"$build_dir/cli/tokens/shapin-tokens" --database-url "$DATABASE_URL" list --all \
  >>"$work/logs/shapin-tokens.log" 2>&1 || die "shapin-tokens list failed"

# --- the fake Akash Console API, with its own key -----------------------------
FAKE_CONSOLE_API_KEY="$console_api_key" node "$repo/tests/fakes/akash-console/server.js" \
  >"$work/console.out" 2>"$work/logs/akash-console.log" &
pids+=("$!")
console_port=""
for ((i = 0; i < 100; i++)); do
  console_port="$(head -n1 "$work/console.out" 2>/dev/null || true)"
  [ -n "$console_port" ] && break
  sleep 0.1
done
[[ "$console_port" =~ ^[0-9]+$ ]] || die "the fake Console API printed no port"
# An existing, leased deployment for the environment to update.
console_dseq="$(node -e '
  const fs = require("fs");
  fetch(`http://127.0.0.1:${process.argv[1]}/__control/seed`, {method: "POST",
    headers: {"content-type": "application/json"},
    body: JSON.stringify({sdl: fs.readFileSync(process.argv[2], "utf8")})})
    .then((r) => r.json()).then((j) => console.log(j.dseq));' \
  "$console_port" "$repo/deploy/akash/pay2slay-api.sdl.yaml")"
[[ "$console_dseq" =~ ^[0-9]+$ ]] || die "seeding the fake Console API failed: $console_dseq"

# --- docker-registry with TLS and htpasswd --------------------------------------
tls="$work/tls"
mkdir -p "$tls" "$work/registry"
(
  cd "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=shapin secrets test CA" \
    -keyout ca.key -out ca.pem 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile san.ext -out server.pem 2>/dev/null
)
htpasswd -Bbn shapin-ci "$registry_password" >"$work/registry/htpasswd" 2>/dev/null
cat >"$work/registry/config.yml" <<EOF
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $work/registry/data
http:
  addr: $host:$reg_port
  tls:
    certificate: $tls/server.pem
    key: $tls/server.key
auth:
  htpasswd:
    realm: shapin-secrets
    path: $work/registry/htpasswd
EOF
docker-registry serve "$work/registry/config.yml" >"$work/logs/registry.log" 2>&1 &
pids+=("$!")
wait_tcp "$reg_port"

# --- tokens (hashed), configs, services ----------------------------------------
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
cat >"$work/tokens.yaml" <<EOF
tokens:
  - {name: secrets-builder, sha256: $(sha "$token_builder"), roles: [builder]}
  - {name: secrets-deployer, sha256: $(sha "$token_deployer"), roles: [deployer]}
  - {name: secrets-viewer, sha256: $(sha "$token_viewer"), roles: [viewer]}
EOF
common_config() {
  cat <<EOF
server:
  listen: $host:$1
  metrics_listen: $host:$2
database:
  url: $DATABASE_URL
registry:
  canonical_repository: $host:$reg_port/secrets/app
  staging_repository: $host:$reg_port/secrets/app-staging
  ca_file: $tls/ca.pem
  insecure_hosts: ["$REGISTRY"]  # the base image's plain registry
  username: shapin-ci
  password_env: SECRETS_TEST_REGISTRY_PASSWORD
auth:
  tokens_file: $work/tokens.yaml
EOF
}
mkdir -p "$work/build-work"
{
  common_config "$build_port" "$build_metrics"
  cat <<EOF
build:
  work_dir: $work/build-work
  build_args: ["BASE_IMAGE=$base_image"]
  signing:
    key_file: $signing_key
EOF
} >"$work/build-svc.yaml"
{
  common_config "$deploy_port" "$deploy_metrics"
  cat <<EOF
deploy:
  environments:
    secrets:
      target: local
      template: $repo/deploy/akash/pay2slay-api.sdl.yaml
      service: api
    console:
      target: akash-console
      template: $repo/deploy/akash/pay2slay-api.sdl.yaml
      service: api
      rollout_timeout: 2m
      settings:
        dseq: "$console_dseq"
  akash:
    console_url: http://$host:$console_port
    console_api_key_env: SECRETS_TEST_CONSOLE_API_KEY
EOF
} >"$work/deploy-svc.yaml"

start_service() {
  local name="$1"
  env -u SHAPIN_TOKEN -u SHAPIN_STACK_DIR -u SHAPIN_BUILD_DIR \
    SECRETS_TEST_REGISTRY_PASSWORD="$registry_password" \
    SECRETS_TEST_CONSOLE_API_KEY="$console_api_key" \
    "$build_dir/$name/$name" --config "$work/$name.yaml" >"$work/logs/$name.log" 2>&1 &
  pids+=("$!")
}
start_service build-svc
start_service deploy-svc
wait_tcp "$build_port"
wait_tcp "$deploy_port"

# --- the flow -------------------------------------------------------------------
"$repo/tests/fixtures/make-sample-repo" "$work/sample" >"$work/sample-commits.txt"
git_sha="$(awk '$1 == "main" {sha = $2} END {print sha}' "$work/sample-commits.txt")"
BUILD_ADDR="$host:$build_port" DEPLOY_ADDR="$host:$deploy_port" \
  SOURCE_URL="file://$work/sample" GIT_SHA="$git_sha" \
  TOKEN_BUILDER="$token_builder" TOKEN_DEPLOYER="$token_deployer" TOKEN_VIEWER="$token_viewer" \
  TOKEN_DB="$token_db" \
  node "$here/flow.js" "$work/replies.json"

# Stop the services so their logs are complete.
for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
pids=()

"$pg_bin/pg_dump" --data-only --no-owner --inserts "$DATABASE_URL" >"$work/database.sql"

# --- the search -----------------------------------------------------------------
searched=("$work/logs/build-svc.log" "$work/logs/deploy-svc.log" "$work/replies.json"
  "$work/database.sql" "$work/tokens.yaml" "$work/build-svc.yaml" "$work/deploy-svc.yaml"
  "$work/logs/shapin-tokens.log")
# The search must be able to fail: what the flow did is in there.
for f in "$work/replies.json" "$work/database.sql"; do
  for want in "$git_sha" secrets-builder secrets-deployer; do
    grep -qF -- "$want" "$f" || die "$f lacks \"$want\": the flow did not record what it should"
  done
done
grep -qF -- "$git_sha@sha256:" "$work/database.sql" || die "no pinned manifest in the database"
# Non-secret markers of each new part, in the very files searched below: the
# DB token's name and caller, the console deployment, the signature.
for want in secrets-dbtoken "\"environment\": \"console\"" "$console_dseq"; do
  grep -qF -- "$want" "$work/replies.json" || die "replies lack \"$want\""
done
grep -qF -- "secrets-dbtoken" "$work/database.sql" || die "the database lacks the DB token's name"
grep -qF -- "$(printf %s "$token_db" | sha256sum | cut -c1-64)" "$work/database.sql" ||
  die "the database lacks the DB token's digest"
grep -qF -- "created token \"secrets-dbtoken\"" "$work/logs/shapin-tokens.log" ||
  die "shapin-tokens' log lacks its create note"
grep -qF -- "'signed'" "$work/database.sql" || die "the database does not record the image as signed"
for f in "$work/logs/build-svc.log" "$work/logs/deploy-svc.log"; do
  grep -qF -- "$git_sha" "$f" || die "$f lacks \"$git_sha\": the search would not see what was logged"
done
grep -qF -- "dseq" "$work/logs/deploy-svc.log" || grep -qF -- "$console_dseq" "$work/logs/deploy-svc.log" ||
  die "deploy-svc's log says nothing of the console deployment"
# The secrets themselves are what was used: the key lines are in the key file,
# the scalar in openssl's dump, and the DB token authenticated (flow.js).
for line in "${key_lines[@]}"; do
  grep -qF -- "$line" "$signing_key" || die "signing key line not found in its own file"
done
openssl pkey -in "$signing_key" -text -noout 2>/dev/null | tr -d ' :\n' | grep -qF -- "$key_scalar" ||
  die "the private scalar is not the key's"
printf '%s\n' "${secrets[@]}" >"$work/secrets.txt"
grep -qF -f "$work/secrets.txt" "$work/secrets.txt" || die "grep cannot find the secrets at all"
# And the search finds a secret when one is there.
printf 'log line with %s inside\n' "$key_scalar" >"$work/canary.txt"
grep -qiF -f "$work/secrets.txt" "$work/canary.txt" || die "the search misses a planted secret"

leaks=0
for f in "${searched[@]}"; do
  [ -s "$f" ] || die "$f is empty"
  # -i: hex and base64 secrets also count when re-cased.
  if grep -qiF -f "$work/secrets.txt" "$f"; then
    echo "secrets: LEAK in ${f#"$work"/} (lines; values withheld):" >&2
    grep -niF -f "$work/secrets.txt" "$f" | cut -d: -f1 | tr '\n' ' ' >&2
    echo >&2
    leaks=1
  fi
done
tables="$(grep -c '^INSERT INTO' "$work/database.sql" || true)"
((leaks == 0)) || die "secrets leaked"
echo "secrets: no secret in ${#searched[@]} files ($tables rows of the database, $(wc -l <"$work/logs/build-svc.log") + $(wc -l <"$work/logs/deploy-svc.log") log lines, $(grep -c '"what"' "$work/replies.json") replies)"
