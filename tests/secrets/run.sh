#!/usr/bin/env bash
# Secrets never leak: a full flow (build → push → resolve → deploy dry run,
# plus refused calls) with distinctive secret values — the registry password
# (htpasswd registry over TLS), each caller's bearer token — then every
# service log, every RPC reply and error (tests/secrets/flow.js), the tokens
# file the services read, and every table of the database (pg_dump
# --data-only, rendered SDL and tfvars included) are searched for them.
#
#   tests/secrets/run.sh      (ctest: secrets_flow; SHAPIN_BUILD_DIR = binaries)
#
# Parts: a private scripts/stack (`up --no-services`: PostgreSQL and a plain
# registry holding the sample app's base image), a docker-registry with TLS
# and htpasswd (canonical and staging repositories), build-svc and deploy-svc
# started here on free ports. SHAPIN_SECRETS_KEEP=1 keeps the work dir.
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
for b in build-svc deploy-svc; do
  [ -x "$build_dir/$b/$b" ] || die "$build_dir/$b/$b missing (build it, or set SHAPIN_BUILD_DIR)"
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
secrets=("$registry_password" "$token_builder" "$token_deployer" "$token_viewer")

# --- PostgreSQL and a plain registry for the base image ----------------------
"$repo/scripts/stack" up --no-services >"$work/logs/stack.log" 2>&1 || { cat "$work/logs/stack.log"; die "stack up failed"; }
set -a
# shellcheck source=/dev/null
. "$SHAPIN_STACK_DIR/env"
set +a
base_image="$("$repo/tests/fixtures/make-base-image" "$REGISTRY" 2>"$work/logs/base-image.log" | tail -n1)"

read -r reg_port build_port build_metrics deploy_port deploy_metrics <<<"$(free_ports 5)"

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
EOF
} >"$work/deploy-svc.yaml"

start_service() {
  local name="$1"
  env -u SHAPIN_TOKEN -u SHAPIN_STACK_DIR -u SHAPIN_BUILD_DIR \
    SECRETS_TEST_REGISTRY_PASSWORD="$registry_password" \
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
  node "$here/flow.js" "$work/replies.json"

# Stop the services so their logs are complete.
for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
pids=()

"$pg_bin/pg_dump" --data-only --no-owner --inserts "$DATABASE_URL" >"$work/database.sql"

# --- the search -----------------------------------------------------------------
searched=("$work/logs/build-svc.log" "$work/logs/deploy-svc.log" "$work/replies.json"
  "$work/database.sql" "$work/tokens.yaml" "$work/build-svc.yaml" "$work/deploy-svc.yaml")
# The search must be able to fail: what the flow did is in there.
for f in "$work/replies.json" "$work/database.sql"; do
  for want in "$git_sha" secrets-builder secrets-deployer; do
    grep -qF -- "$want" "$f" || die "$f lacks \"$want\": the flow did not record what it should"
  done
done
grep -qF -- "$git_sha@sha256:" "$work/database.sql" || die "no pinned manifest in the database"
printf '%s\n' "${secrets[@]}" >"$work/secrets.txt"
grep -qF -f "$work/secrets.txt" "$work/secrets.txt" || die "grep cannot find the secrets at all"

leaks=0
for f in "${searched[@]}"; do
  [ -s "$f" ] || die "$f is empty"
  if grep -nF -f "$work/secrets.txt" "$f" >/dev/null; then
    echo "secrets: LEAK in ${f#"$work"/}:" >&2
    grep -nF -f "$work/secrets.txt" "$f" | sed 's/\(Reg\|Tok\)[A-Za-z]*-[0-9a-f]*-secret/<SECRET>/g' >&2
    leaks=1
  fi
done
tables="$(grep -c '^INSERT INTO' "$work/database.sql" || true)"
((leaks == 0)) || die "secrets leaked"
echo "secrets: no secret in ${#searched[@]} files ($tables rows of the database, $(wc -l <"$work/logs/build-svc.log") + $(wc -l <"$work/logs/deploy-svc.log") log lines, $(grep -c '"what"' "$work/replies.json") replies)"
