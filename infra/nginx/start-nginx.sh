#!/bin/sh
# Renders Peercast's nginx config from the templates next to this script and runs nginx in the
# foreground. The edge image runs exactly this; so do the tests, with other ports and prefixes.
#   PEERCAST_NGINX_PREFIX     directory for the rendered config, pid, temp files and cache (required)
#   PEERCAST_NGINX_LISTEN     plain HTTP listen address (default 8080)
#   PEERCAST_NGINX_ORIGIN     the origin, host:port (default 127.0.0.1:8080)
#   PEERCAST_NGINX_TRACKERS   tracker shards, comma-separated host:port (default 127.0.0.1:8000)
#   PEERCAST_NGINX_ORIGINS_DIR  optional: origin shards (*.upstream, *.map files, see the README)
#   PEERCAST_NGINX_TLS_CERT, PEERCAST_NGINX_TLS_KEY  PEM files: also serve TLS
#   PEERCAST_NGINX_TLS_LISTEN TLS listen address (default 8443)
#   PEERCAST_NGINX_CACHE_SIZE largest cache on disk (default 2g)
#   PEERCAST_NGINX_WORKERS    worker processes (default auto)
#   PEERCAST_NGINX_ACCESS_LOG access log path, or off (default /dev/stdout)
#   PEERCAST_NGINX_CHECK=1    only check the rendered config (nginx -t) and exit
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "start-nginx: $*" >&2; exit 2; }

[ -n "${PEERCAST_NGINX_PREFIX:-}" ] || fail "PEERCAST_NGINX_PREFIX is required (a writable directory)"
: "${PEERCAST_NGINX_LISTEN:=8080}" "${PEERCAST_NGINX_ORIGIN:=127.0.0.1:8080}" "${PEERCAST_NGINX_TRACKERS:=127.0.0.1:8000}"
: "${PEERCAST_NGINX_TLS_LISTEN:=8443}" "${PEERCAST_NGINX_CACHE_SIZE:=2g}" "${PEERCAST_NGINX_WORKERS:=auto}"
: "${PEERCAST_NGINX_ACCESS_LOG:=/dev/stdout}"
export PEERCAST_NGINX_LISTEN PEERCAST_NGINX_ORIGIN PEERCAST_NGINX_TLS_LISTEN PEERCAST_NGINX_CACHE_SIZE \
  PEERCAST_NGINX_WORKERS
addr='^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):[0-9]{1,5}$'
listen='^(([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):)?[0-9]{1,5}$'
echo "$PEERCAST_NGINX_LISTEN" | grep -Eq "$listen" || fail "PEERCAST_NGINX_LISTEN: expected port or address:port, got '$PEERCAST_NGINX_LISTEN'"
echo "$PEERCAST_NGINX_TLS_LISTEN" | grep -Eq "$listen" || fail "PEERCAST_NGINX_TLS_LISTEN: expected port or address:port"
echo "$PEERCAST_NGINX_ORIGIN" | grep -Eq "$addr" || fail "PEERCAST_NGINX_ORIGIN: expected host:port, got '$PEERCAST_NGINX_ORIGIN'"
echo "$PEERCAST_NGINX_CACHE_SIZE" | grep -Eq '^[0-9]+[kmg]$' || fail "PEERCAST_NGINX_CACHE_SIZE: expected e.g. 2g"
servers=""
for t in $(echo "$PEERCAST_NGINX_TRACKERS" | tr ',' ' '); do
  echo "$t" | grep -Eq "$addr" || fail "PEERCAST_NGINX_TRACKERS: expected host:port entries, comma-separated, got '$t'"
  servers="${servers}server $t; "
done
[ -n "$servers" ] || fail "PEERCAST_NGINX_TRACKERS: at least one tracker"
export PEERCAST_NGINX_TRACKERS_SERVERS="$servers"
# `access_log off;` takes no format: `access_log off peercast;` is an error that stops nginx.
case "$PEERCAST_NGINX_ACCESS_LOG" in
  off) PEERCAST_NGINX_ACCESS_LOG_ARGS="off" ;;
  ''|*[[:space:]\;{}\'\"\$]*) fail "PEERCAST_NGINX_ACCESS_LOG: expected a file path or off, got '$PEERCAST_NGINX_ACCESS_LOG'" ;;
  *) PEERCAST_NGINX_ACCESS_LOG_ARGS="$PEERCAST_NGINX_ACCESS_LOG peercast" ;;
esac
export PEERCAST_NGINX_ACCESS_LOG_ARGS
if [ -n "${PEERCAST_NGINX_TLS_CERT:-}${PEERCAST_NGINX_TLS_KEY:-}" ]; then
  for f in "${PEERCAST_NGINX_TLS_CERT:-}" "${PEERCAST_NGINX_TLS_KEY:-}"; do
    [ -r "$f" ] || fail "PEERCAST_NGINX_TLS_CERT and PEERCAST_NGINX_TLS_KEY must both name readable PEM files ('$f' is not)"
  done
fi

prefix=$(mkdir -p "$PEERCAST_NGINX_PREFIX" && cd "$PEERCAST_NGINX_PREFIX" && pwd)
export PEERCAST_NGINX_PREFIX="$prefix"
conf="$prefix/conf"
rm -rf "$conf"
mkdir -p "$conf/conf.d" "$conf/peercast-origins" "$prefix/temp" "$prefix/cache"
# Started as root (a plain Debian host), nginx's workers run as nobody: they write the cache and
# temp files. The images run nginx as an unprivileged user from the start.
if [ "$(id -u)" = 0 ]; then chmod 755 "$prefix" && chown -R nobody "$prefix/temp" "$prefix/cache"; fi
# Only our own variables are substituted: nginx's $uri, $host... stay as they are.
vars='${PEERCAST_NGINX_PREFIX} ${PEERCAST_NGINX_LISTEN} ${PEERCAST_NGINX_ORIGIN} ${PEERCAST_NGINX_TRACKERS_SERVERS}
      ${PEERCAST_NGINX_TLS_LISTEN} ${PEERCAST_NGINX_TLS_CERT} ${PEERCAST_NGINX_TLS_KEY} ${PEERCAST_NGINX_CACHE_SIZE}
      ${PEERCAST_NGINX_WORKERS} ${PEERCAST_NGINX_ACCESS_LOG_ARGS}'
render() { envsubst "$vars" < "$1" > "$2"; }
render "$here/nginx.conf.template" "$conf/nginx.conf"
render "$here/conf.d/edge.conf.template" "$conf/conf.d/edge.conf"
[ -z "${PEERCAST_NGINX_TLS_CERT:-}" ] || render "$here/conf.d/tls.conf.template" "$conf/conf.d/tls.conf"
cp "$here/peercast-locations.conf" "$conf/"
if [ -n "${PEERCAST_NGINX_ORIGINS_DIR:-}" ]; then
  cp "$PEERCAST_NGINX_ORIGINS_DIR"/*.upstream "$PEERCAST_NGINX_ORIGINS_DIR"/*.map "$conf/peercast-origins/" \
    || fail "PEERCAST_NGINX_ORIGINS_DIR: expected *.upstream and *.map files in $PEERCAST_NGINX_ORIGINS_DIR"
fi

nginx=${PEERCAST_NGINX_BIN:-nginx}
if [ "${PEERCAST_NGINX_CHECK:-0}" = 1 ]; then exec "$nginx" -t -q -p "$prefix/" -c "$conf/nginx.conf" -g 'daemon off;'; fi
exec "$nginx" -p "$prefix/" -c "$conf/nginx.conf" -g 'daemon off;'
