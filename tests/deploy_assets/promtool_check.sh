#!/usr/bin/env bash
# promtool on deploy/prometheus: the configuration and rule files are valid,
# and the alert rules' unit tests (tests/*.test.yml) pass. Exits 77 (ctest:
# skipped) when promtool is not installed (Debian package `prometheus`,
# installed by scripts/bootstrap).
set -euo pipefail
dir="$(cd "$(dirname "$0")/../../deploy/prometheus" && pwd)"
if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool not found: skipped (scripts/bootstrap installs the Debian package prometheus)"
  exit 77
fi
cd "$dir"
promtool check config prometheus.yml
promtool check rules rules/*.yml
promtool test rules tests/*.test.yml
