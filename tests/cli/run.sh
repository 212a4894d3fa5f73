#!/usr/bin/env bash
# End-to-end test of the `shapin` CLI against a private stack (scripts/stack
# in a temp dir, its own ports): builds by SHA with the live view, deploys to
# the stack's `local` environment (podman), rollback, the hold, history as
# JSON and as a table, adopting a tag build-svc did not publish, and the
# exit codes that follow the error codes.
#
#   tests/cli/run.sh [path/to/shapin]     default: $SHAPIN_BUILD_DIR/cli/shapin
#
# Environment: SHAPIN_BUILD_DIR (service binaries, default <repo>/build);
# SHAPIN_CLI_E2E_KEEP=1 keeps the temp dir. Every call is bounded by its own
# timeout, well inside ctest's, so the stack is always stopped.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
stack="$repo/scripts/stack"
build_dir="${SHAPIN_BUILD_DIR:-$repo/build}"
shapin="${1:-$build_dir/cli/shapin}"
[ -x "$shapin" ] || { echo "cli-e2e: no shapin binary at $shapin" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/shapin-cli-e2e.XXXXXX")"
export SHAPIN_STACK_DIR="$work/stack"
failures=0
checks=0

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if ((rc != 0)); then
    for f in "$SHAPIN_STACK_DIR"/logs/*-svc.log; do
      [ -f "$f" ] || continue
      echo "--- cli-e2e: last lines of ${f##*/} ---"
      tail -n 30 "$f"
    done
  fi
  "$stack" down >/dev/null || rc=1
  if [ "${SHAPIN_CLI_E2E_KEEP:-0}" = 1 ]; then echo "cli-e2e: kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- assertions ---------------------------------------------------------------

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
pass() {
  echo "ok: $*"
  checks=$((checks + 1))
}

# run ARGS...: runs shapin (bounded), keeps stdout in $out, stderr in $err and
# the exit code in $rc.
run() {
  rc=0
  timeout --signal=TERM 150 "$shapin" "$@" >"$work/out" 2>"$work/err" || rc=$?
  out="$(cat "$work/out")"
  err="$(cat "$work/err")"
}

# expect_rc WANT WHAT: the last run's exit code.
expect_rc() {
  if [ "$rc" = "$1" ]; then
    pass "$2 (exit $rc)"
  else
    fail "$2: exit $rc, want $1"
    printf -- '--- stdout ---\n%s\n--- stderr ---\n%s\n' "$out" "$err" >&2
  fi
}

# expect_in TEXT NEEDLE WHAT
expect_in() {
  if [[ "$1" == *"$2"* ]]; then pass "$3"; else fail "$3: no \"$2\" in:"$'\n'"$1"; fi
}
expect_not_in() {
  if [[ "$1" != *"$2"* ]]; then pass "$3"; else fail "$3: unexpected \"$2\" in:"$'\n'"$1"; fi
}

# json EXPR: evaluates a JS expression over the last run's stdout as `r`.
json() {
  node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); const v = eval(process.argv[1]); console.log(typeof v === "object" ? JSON.stringify(v) : v)' "$1" <<<"$out"
}

expect_eq() {
  if [ "$1" = "$2" ]; then pass "$3"; else fail "$3: got \"$1\", want \"$2\""; fi
}

# --- the stack ------------------------------------------------------------------

echo "cli-e2e: starting a private stack in $SHAPIN_STACK_DIR"
"$stack" up >"$work/stack-up.log" 2>&1 || { cat "$work/stack-up.log"; exit 1; }
set -a
# shellcheck source=/dev/null
. "$SHAPIN_STACK_DIR/env"
set +a
export SHAPIN_BUILD_ADDR="$BUILD_ADDR" SHAPIN_DEPLOY_ADDR="$DEPLOY_ADDR"
unset SHAPIN_ENV SHAPIN_OUTPUT NO_COLOR
# SHAPIN_TOKEN comes from the stack's env once the servers check tokens.

sample="$work/sample-repo"
commits="$("$repo/tests/fixtures/make-sample-repo" "$sample")"
sha_a="$(awk '$1 == "main" { print $2; exit }' <<<"$commits")"
sha_b="$(awk '$1 == "main" { n++; if (n == 2) { print $2; exit } }' <<<"$commits")"
sha_broken="$(awk '$1 == "broken" { print $2; exit }' <<<"$commits")"
unknown_sha=0123456789abcdef0123456789abcdef01234567

# --- command line -----------------------------------------------------------------

run --help
expect_rc 0 "shapin --help"
expect_in "$out" " 11  MISSING_TAG" "help lists the exit codes"
expect_in "$out" "build submit SHA" "help lists the commands"
run depoly "$sha_a"
expect_rc 2 "unknown command is a usage error"
expect_in "$err" 'unknown command "depoly"' "usage error names the command"
run rollback --env local
expect_rc 2 "rollback without --reason"

# --- builds -----------------------------------------------------------------------

run build submit "$sha_a" --branch main --source "file://$sample" --watch
expect_rc 0 "build submit --watch of A"
expect_in "$out" "building" "the watch shows the building phase"
expect_in "$out" "         | " "the watch shows builder log lines"
expect_in "$out" "state:        succeeded" "the watch ends with the build's summary"
expect_in "$out" "$CANONICAL_REPOSITORY:$sha_a@sha256:" "the summary shows the pinned image"
build_a="$(sed -n 's/^build \([0-9]*\) queued.*/\1/p' <<<"$out")"
if [ -n "$build_a" ]; then pass "submit printed the build id ($build_a)"; else fail "no build id in: $out"; fi

run build get "$build_a" --output json
expect_rc 0 "build get --output json"
expect_eq "$(json r.state)" BUILD_STATE_SUCCEEDED "build A succeeded"
expect_eq "$(json r.git_sha)" "$sha_a" "build A's SHA"

run build watch "$build_a" --output json
expect_rc 0 "build watch of a finished build"
last_event="$(tail -n 1 <<<"$out")"
out="$last_event"
expect_eq "$(json r.build.state)" BUILD_STATE_SUCCEEDED "watch --output json streams events as JSON lines"

if command -v script >/dev/null 2>&1; then
  # A pseudo-terminal: the live view draws with escape codes, and colour is on.
  tty_out="$(timeout 60 script -qec "'$shapin' build watch $build_a" /dev/null 2>&1 || true)"
  expect_in "$tty_out" $'\e[' "on a terminal the watch redraws and colours"
  tty_out="$(NO_COLOR=1 timeout 60 script -qec "'$shapin' build get $build_a" /dev/null 2>&1 || true)"
  expect_not_in "$tty_out" $'\e[3' "NO_COLOR turns colour off on a terminal"
fi
expect_not_in "$(cat "$work/out")" $'\e[' "no escape codes when stdout is not a terminal"

run build submit "$sha_b" --branch main --source "file://$sample" --wait --output json
expect_rc 0 "build submit --wait --output json of B"
expect_eq "$(json r.state)" BUILD_STATE_SUCCEEDED "build B succeeded"

run build submit "$sha_broken" --branch broken --source "file://$sample" --watch
expect_rc 17 "a failing build exits with BUILD_FAILURE's code"
expect_in "$out" "BUILD_FAILURE" "the failed build's error code is shown"

run build list --limit 2 --output json
expect_rc 0 "build list --limit 2"
expect_eq "$(json r.builds.length)" 2 "build list returns the limit"
if [ -n "$(json r.next_page_token)" ]; then pass "build list hands back a page token"; else fail "no next_page_token"; fi
token="$(json r.next_page_token)"
run build list --page-token "$token" --output json
expect_eq "$(json r.builds.length)" 1 "the next page holds the rest"
run build list --branch main
expect_rc 0 "build list table"
expect_in "$out" "ID  STATE" "build list prints an aligned table"

run build get 999999
expect_rc 4 "unknown build id exits NOT_FOUND's code"

# --- deployments --------------------------------------------------------------------

run resolve "$sha_a"
expect_rc 0 "resolve A"
expect_in "$out" "digest check: ok" "resolve checks the recorded digest"
run resolve "$unknown_sha"
expect_rc 11 "resolve of an unknown SHA exits MISSING_TAG's code"

run deploy "$sha_a" --env local --dry-run
expect_rc 0 "deploy --dry-run"
expect_in "$out" "dry run: nothing applied" "dry run says nothing was applied"
expect_in "$out" "$sha_a@sha256:" "dry run prints the manifest pinned by digest"

run deploy "$sha_a" --env local
expect_rc 0 "deploy A"
expect_in "$out" "deployed ${sha_a:0:12} to local" "deploy reports success"
if grep -Eq '^\[ *[0-9]+[a-z]*\] (resolving|applying|checking_rollout)  deployment ' <<<"$out"; then
  pass "deploy shows the running deployment's phases"
else
  fail "deploy shows no phase of the running deployment:"$'\n'"$out"
fi
expect_eq "$(curl -sf "$APP_URL/version")" "$sha_a" "the app runs A"

run deploy "$sha_b" --env local --output json
expect_rc 0 "deploy B --output json"
expect_eq "$(json r.state)" DEPLOYMENT_STATE_SUCCEEDED "deploy B succeeded"
expect_eq "$(json r.previous_sha)" "$sha_a" "deploy B replaced A"

run current --env local --output json
expect_rc 0 "current"
expect_eq "$(json r.image_sha)" "$sha_b" "current is B"

run targets --env local
expect_rc 0 "targets"
expect_in "$out" "$sha_a" "A is a rollback target"
expect_in "$(grep "$sha_b" <<<"$out")" "*" "B is marked current"

run rollback --env local --reason "cli e2e: B misbehaves"
expect_rc 0 "rollback to the previous SHA"
expect_in "$out" "rolled back local to ${sha_a:0:12}" "rollback reports the SHA"
expect_eq "$(curl -sf "$APP_URL/version")" "$sha_a" "the app runs A again"

run deploy "$sha_b" --env local
expect_rc 13 "deploy while held exits ON_HOLD's code"
expect_in "$err" "ON_HOLD" "the ON_HOLD error is shown"

run release-hold --env local
expect_rc 0 "release-hold"
expect_in "$out" "released the hold on local" "release-hold reports it"

run deploy "$unknown_sha" --env local
expect_rc 11 "deploy of an unknown SHA exits MISSING_TAG's code"
expect_in "$err" "MISSING_TAG" "the MISSING_TAG error is shown"
run deploy abc --env local
expect_rc 10 "deploy of a malformed SHA exits MISSING_SHA's code"
run deploy "$sha_a" --env nowhere
expect_rc 3 "unknown environment exits INVALID_ARGUMENT's code"

run history --env local --output json
expect_rc 0 "history --output json"
expect_eq "$(json 'r.deployments.map(d => d.kind.replace("DEPLOYMENT_KIND_", "")).join(",")')" \
  "DEPLOY,DEPLOY,ROLLBACK,DEPLOY,DEPLOY,DEPLOY" "history kinds, newest first (failed ones recorded)"
expect_eq "$(json 'r.deployments.slice(0, 2).map(d => d.error_code).join(",")')" \
  "MISSING_TAG,ON_HOLD" "failed deployments keep their error codes"
expect_eq "$(json 'r.deployments[2].reason')" "cli e2e: B misbehaves" "history keeps the rollback's reason"
run history --env local
expect_rc 0 "history table"
expect_in "$out" "ID  ENV    KIND" "history prints an aligned table"
expect_in "$out" "rollback" "history shows the rollback"

# --- adopting a tag build-svc did not publish ---------------------------------

# Someone tags A's manifest as another commit behind build-svc's back.
foreign_sha=fedcba9876543210fedcba9876543210fedcba98
manifests="http://${CANONICAL_REPOSITORY%%/*}/v2/${CANONICAL_REPOSITORY#*/}/manifests"
accept='application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
curl -sf -H "Accept: $accept" -D "$work/headers" -o "$work/manifest" "$manifests/$sha_a"
media_type="$(tr -d '\r' <"$work/headers" | sed -n 's/^[Cc]ontent-[Tt]ype: //p')"
curl -sf -X PUT -H "Content-Type: $media_type" --data-binary @"$work/manifest" \
  "$manifests/$foreign_sha" >/dev/null
run build get "$build_a" --output json
digest_a="$(json r.digest)"
run image adopt "$foreign_sha" --reason "cli e2e"
expect_rc 2 "image adopt without --digest"
run image adopt "$foreign_sha" --digest "sha256:$(printf '0%.0s' {1..64})" --reason "cli e2e"
expect_rc 5 "adopting a digest the tag does not point at is refused"
run image adopt "$foreign_sha" --digest "$digest_a" --reason "cli e2e: same content as A"
expect_rc 0 "image adopt of the inspected digest"
expect_in "$out" "adopted $CANONICAL_REPOSITORY:$foreign_sha@$digest_a (origin adopted" "adopt reports the pinned image"
run image adopt "$foreign_sha" --digest "$digest_a" --reason "twice"
expect_rc 5 "adopting a recorded image again is refused"
run image adopt "$unknown_sha" --digest "$digest_a" --reason "cli e2e"
expect_rc 11 "adopting a SHA without a tag exits MISSING_TAG's code"
run resolve "$foreign_sha"
expect_in "$out" "digest check: ok" "the adopted image passes deploy-svc's digest check"

run --deploy-addr 127.0.0.1:1 --timeout 3s history
expect_rc 7 "an unreachable server exits UNAVAILABLE's code"
expect_in "$err" "127.0.0.1:1" "the error names the unreachable address"

# Once the servers check tokens (the stack's env then holds SHAPIN_TOKEN):
# a wrong token and a token without the needed role exit the auth code.
if [ -n "${SHAPIN_TOKEN:-}" ]; then
  run --token not-a-valid-token history --env local
  expect_rc 6 "a wrong token exits the auth code"
  viewer="$(sed -n 's/^stack-viewer=//p' "${TOKENS_FILE:-/dev/null}" 2>/dev/null || true)"
  if [ -n "$viewer" ]; then
    run --token "$viewer" history --env local --output json
    expect_rc 0 "a viewer token reads the history"
    run --token "$viewer" deploy "$sha_a" --env local
    expect_rc 6 "a viewer token cannot deploy"
    expect_not_in "$out$err" "$viewer" "the token never reaches the output"
  fi
else
  echo "cli-e2e: the stack hands out no token (auth not configured): token checks skipped"
fi

echo "cli-e2e: $checks checks passed, $failures failed"
((failures == 0))
