#!/bin/sh
# Starts one venuecode service (VENUECODE_SERVICE) by default, or runs the CLI command given.
set -eu
if [ "$#" -eq 0 ]; then
    exec venuecode serve "${VENUECODE_SERVICE:?registry, checkin, status or tracing}" \
        --host 0.0.0.0 --port "${VENUECODE_PORT:-8000}" --workers "${VENUECODE_WORKERS:-1}"
fi
exec venuecode "$@"
