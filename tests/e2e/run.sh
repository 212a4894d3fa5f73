#!/usr/bin/env bash
# Starts a private stack (its own state dir under a temp dir, its own ports),
# runs the node end-to-end tests against it, and always stops it.
#
#   tests/e2e/run.sh [test files...]     default: reflection.test.js first, every other *.test.js, then workflows.test.js and console.test.js
#
# Environment: SHAPIN_BUILD_DIR (where the service binaries are, default
# <repo>/build); SHAPIN_E2E_KEEP=1 keeps the temp dir (logs, configs) after a run;
# SHAPIN_E2E_OUTPUT is where tests leave files to look at (console.test.js's
# screenshots; default <build>/tests/e2e/output).
# Exits with the tests' status. Everything is bounded by its own timeouts,
# shorter than ctest's, because a killed run could not stop the stack.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
stack="$repo/scripts/stack"

if [ ! -d "$here/node_modules/grpc-js-reflection-client" ] || [ ! -d "$here/node_modules/@grpc/grpc-js" ] ||
   [ ! -d "$here/node_modules/puppeteer-core" ]; then
  echo "e2e: npm test clients missing in $here/node_modules: run scripts/bootstrap" >&2
  exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/shapin-e2e.XXXXXX")"
export SHAPIN_E2E_OUTPUT="${SHAPIN_E2E_OUTPUT:-${SHAPIN_BUILD_DIR:-$repo/build}/tests/e2e/output}"
export SHAPIN_STACK_DIR="$work/stack"

show_logs() {
  local f
  for f in "$SHAPIN_STACK_DIR"/logs/*.log; do
    [ -f "$f" ] || continue
    echo "--- e2e: last lines of ${f##*/} ---"
    tail -n 40 "$f"
  done
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if ((rc != 0)); then
    show_logs || true
  fi
  "$stack" down || rc=1
  if [ "${SHAPIN_E2E_KEEP:-0}" = 1 ]; then
    echo "e2e: kept $work"
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "e2e: starting a private stack in $SHAPIN_STACK_DIR"
"$stack" up
set -a
# shellcheck source=/dev/null
. "$SHAPIN_STACK_DIR/env"
set +a

files=("$@")
if ((${#files[@]} == 0)); then
  # The smoke test wants the fresh, empty database: it runs first.
  files=("$here/reflection.test.js")
  for f in "$here"/*.test.js; do
    case "${f##*/}" in reflection.test.js | workflows.test.js | console.test.js) ;; *) files+=("$f") ;; esac
  done
  # The CI workflows build and deploy the sample commits that
  # pipeline.test.js wants unbuilt: they run last, then the console's browser
  # test, which finds those images built and deployed.
  [ -f "$here/workflows.test.js" ] && files+=("$here/workflows.test.js")
  [ -f "$here/console.test.js" ] && files+=("$here/console.test.js")
fi

cd "$here"
# One file at a time, in this order: node sorts the files it is given, and
# reflection.test.js must see the fresh, empty database first.
rc=0
for f in "${files[@]}"; do
  timeout --signal=TERM 300 node --test "$f" || rc=1
done
exit "$rc"
