#!/bin/sh
# Renders the gateway's nginx.conf from its template, then checks it and runs nginx in the foreground.
#
#   entrypoint.sh            render to $GATEWAY_RUNTIME_DIR/nginx.conf, `nginx -t`, exec nginx
#   entrypoint.sh render F   only render to file F (the local test renders this way)
#
# Only the listed variables are substituted, so nginx's own $variables survive envsubst.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
: "${GATEWAY_TEMPLATE:=$here/nginx.conf.template}"
: "${GATEWAY_LISTEN:=8080}"
: "${GATEWAY_RUNTIME_DIR:=/tmp/venuecode-gateway}"
: "${GATEWAY_WORKER_PROCESSES:=auto}"
: "${REGISTRY_UPSTREAM:?host:port of the registry service}"
: "${CHECKIN_UPSTREAM:?host:port of the checkin service}"
: "${STATUS_UPSTREAM:?host:port of the status service}"
: "${TRACING_UPSTREAM:?host:port of the tracing service}"
export GATEWAY_LISTEN GATEWAY_RUNTIME_DIR GATEWAY_WORKER_PROCESSES REGISTRY_UPSTREAM CHECKIN_UPSTREAM STATUS_UPSTREAM TRACING_UPSTREAM

render() {
    mkdir -p "$GATEWAY_RUNTIME_DIR"
    envsubst '${GATEWAY_LISTEN} ${GATEWAY_RUNTIME_DIR} ${GATEWAY_WORKER_PROCESSES} ${REGISTRY_UPSTREAM} ${CHECKIN_UPSTREAM} ${STATUS_UPSTREAM} ${TRACING_UPSTREAM}' \
        <"$GATEWAY_TEMPLATE" >"$1"
}

if [ "${1:-}" = "render" ]; then
    render "${2:?render needs an output file}"
    exit 0
fi

conf="$GATEWAY_RUNTIME_DIR/nginx.conf"
render "$conf"
nginx -e stderr -t -q -c "$conf"
exec nginx -e stderr -c "$conf" -g 'daemon off;'
