#!/bin/bash
# deploy/mosquitto/docker-compose.yml: every path in the configuration broker-config writes is
# inside DIR (so mounting DIR at its own path is enough), and where a compose client is
# installed, `compose config` accepts the file and mounts DIR where the configuration expects
# it. No container engine is needed, and none is used.
source "$(dirname "$0")/../../scripts/testbed.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
COMPOSE_FILE=$ROOT/deploy/mosquitto/docker-compose.yml
DIR=$T/pki

"$GARAGECTL" pki init --dir "$DIR" >/dev/null || fail "pki init"
"$GARAGECTL" pki issue --dir "$DIR" --server mqtt.local >/dev/null || fail "pki issue --server"
"$GARAGECTL" pki issue --dir "$DIR" --client garage.local >/dev/null || fail "pki issue --client"
"$GARAGECTL" pki issue --dir "$DIR" --client laptop.local >/dev/null || fail "pki issue --client"
"$GARAGECTL" broker-config --dir "$DIR" --server mqtt.local --device garage:garage.local \
	--controller laptop.local >/dev/null || fail "broker-config"
paths=$(grep -E '^(cafile|certfile|keyfile|crlfile|acl_file|persistence_location) ' "$DIR/mosquitto.conf" |
	awk '{print $2}')
[ "$(echo "$paths" | wc -l)" -ge 5 ] || fail "broker-config wrote too few paths: $paths"
for p in $paths; do
	[[ $p == "$DIR"/* ]] || fail "mosquitto.conf names $p, outside $DIR: mounting DIR is not enough"
done
[ -d "$DIR/data" ] || fail "broker-config made no $DIR/data for the second mount"
grep -q '^listener 8883$' "$DIR/mosquitto.conf" || fail "the listener is not on 8883"
pass "every path in mosquitto.conf is inside DIR, the listener is on 8883"

if docker compose version >/dev/null 2>&1; then
	compose=(docker compose)
elif command -v docker-compose >/dev/null; then
	compose=(docker-compose)
else
	skip "no compose client (docker compose version fails, no docker-compose) to validate $COMPOSE_FILE"
fi
GARAGED_PKI=$DIR "${compose[@]}" -f "$COMPOSE_FILE" config >"$T/config.out" 2>&1 ||
	fail "${compose[*]} config refused the file: $(cat "$T/config.out")"
for s in 'image: eclipse-mosquitto:2' "source: $DIR\$" "target: $DIR\$" "source: $DIR/data" \
	"target: $DIR/data" "$DIR/mosquitto.conf" 'target: 8883|8883:8883' 'read_only: true'; do
	grep -Eq -- "$s" "$T/config.out" || fail "the resolved file lacks '$s': $(cat "$T/config.out")"
done
pass "${compose[*]} config: eclipse-mosquitto:2, DIR mounted at its own path, port 8883"

env -u GARAGED_PKI "${compose[@]}" -f "$COMPOSE_FILE" config >"$T/config.out" 2>&1 &&
	fail "the file is accepted without GARAGED_PKI"
grep -q 'GARAGED_PKI' "$T/config.out" || fail "without GARAGED_PKI it does not say so: $(cat "$T/config.out")"
pass "without GARAGED_PKI, compose refuses and names the variable"
