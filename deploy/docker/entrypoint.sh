#!/bin/sh
# Runs one flowprune program in a container: a service by name (its flags follow), or the CLI.
#   entrypoint.sh trainer --address 0.0.0.0:50052 ...      entrypoint.sh flowprune run spec.yaml --trainer trainer:50052
set -eu
cd /app
program="${1:-}"
[ $# -gt 0 ] && shift
if [ "$program" = flowprune ]; then
  exec node tools/cli/bin/flowprune.mjs "$@"
elif [ -n "$program" ] && [ -f "services/$program/bin/flowprune-$program.mjs" ]; then
  exec node "services/$program/bin/flowprune-$program.mjs" "$@"
fi
echo "usage: entrypoint.sh <$(ls services | tr '\n' '|')flowprune> [flags]" >&2
exit 64
