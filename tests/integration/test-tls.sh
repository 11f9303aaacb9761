#!/bin/bash
# garaged trusts only a broker whose certificate chains to the configured CA and names the
# configured host. A broker with a certificate from a forged CA (same subject, other key) or for
# another host is refused; garaged keeps retrying (network errors are never fatal) and never
# comes online there. The broker, for its part, refuses a client certificate from another CA.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
issue rogue-ca localhost server rogue-localhost "DNS:localhost,IP:127.0.0.1"
issue ca other.example server other.example "DNS:other.example"
issue rogue-ca garage.local client rogue-garage.local

# Each failed attempt is one warning line that names the check that failed (tls.c).
refused() { # refused BROKER-STEM WHAT LOG-PATTERN
	start_broker "$1"
	write_conf
	: >"$T/garaged.log"
	start_garaged
	# Refused twice: garaged retried, and had time to come online were it going to.
	await_count "warning: TLS with localhost:$PORT failed .*$3" 2 15 "$T/garaged.log" ||
		fail "the refusal of $2 is not logged as '$3' twice within 15 s: $(grep warning "$T/garaged.log" | tail -2)"
	kill -0 "$GARAGED_PID" 2>/dev/null || fail "garaged exited on $2 (network errors must be retried)"
	[ "$(sub garage/garage/availability 1 2)" = online ] && fail "garaged came online with $2"
	grep -q 'again in' "$T/garaged.log" || fail "garaged does not retry after $2"
	stop_garaged
	stop_broker
	pass "refused $2, logged it, kept retrying"
}
refused rogue-localhost "a broker certificate from a forged CA with the same subject" \
	"CA check failed: the broker's certificate is not signed by the CA in $T/pki/ca.crt: .*subject CN=localhost, issuer CN=garaged test CA"
refused other.example "a broker certificate for another host name" \
	"host name check failed: the broker's certificate is for DNS:other.example, not localhost"

# The broker refuses a device whose client certificate is from another CA.
start_broker
write_conf
sed -i "s|$T/pki/garage.local.|$T/pki/rogue-garage.local.|" "$T/garaged.conf"
: >"$T/garaged.log"
start_garaged
# Two attempts ended and a third scheduled: garaged retried, and had time to come online.
await_count 'again in' 2 15 "$T/garaged.log" ||
	fail "garaged did not retry twice within 15 s with a client certificate the broker refuses: $(grep warning "$T/garaged.log" | tail -2)"
kill -0 "$GARAGED_PID" 2>/dev/null || fail "garaged exited when the broker refused its certificate"
[ "$(sub garage/garage/availability 1 2)" = online ] && fail "a client certificate from a forged CA got online"
pass "the broker refuses a client certificate from a forged CA; garaged retries"
