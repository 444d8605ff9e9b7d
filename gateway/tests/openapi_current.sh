#!/usr/bin/env bash
# ctest openapi_docs_current: docs/openapi.json must be what dj-openapi prints now.
# Usage: openapi_current.sh <dj-openapi> <docs/openapi.json>
set -euo pipefail

generator="$1"
checked_in="$2"
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
"$generator" > "$tmp"
if ! diff -u "$checked_in" "$tmp"; then
  echo "docs/openapi.json is stale: run scripts/openapi"
  exit 1
fi
