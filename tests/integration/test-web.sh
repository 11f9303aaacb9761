#!/bin/bash
# The web app (web/, docs/phone.md) in a real browser: Debian's Chromium, headless, with HTTP/2
# left on as on a phone, driven by puppeteer-core (tests/web/drive.mjs; no browser download),
# trusting the test's private CA through an NSS database made here under a scratch HOME (never
# --ignore-certificate-errors). Against a real nginx (an unprivileged test instance on its own
# pid, log and temp files) and a real Mosquitto, both configured by garagectl broker-config
# --web and both on loopback, and garaged with the simulated door.
# Checked: broker-config --web's files and refusals; the page over HTTPS with HTTP/2 and its
# Content-Security-Policy; the page's own signer reproduces docs/protocol.md's test vector;
# the page's key added by hand (its authorized_keys line, then SIGHUP) opens and closes the
# door, the state and the device's answer shown; the page shows the broker unreachable while
# Mosquitto is down and recovers by itself after it is back; a removed key gets unknown_key
# shown. Enrollment by invitation: one profile enrolls and its key closes the door, a second with
# the same invitation is refused. A screenshot of each step goes to the build tree (test-web/ or
# test-web-caps/), each checked to be a page: a PNG of the viewport's size, not of one colour.
source "$(dirname "$0")/../../scripts/testbed.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=$(cd "$(dirname "$GARAGED")/.." && pwd)
WEB=$BUILD_DIR/web
SHOTS=$BUILD_DIR/test-web${GARAGED_AS_UNIT:+-caps}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$GARAGECTL" ] || fail "no garagectl at $GARAGECTL (build first)"

# --- what it takes; skipped, with the reason, where the browser cannot run ----------------------
[ -x "$CHROMIUM" ] || skip "no Chromium at $CHROMIUM (apt install chromium; scripts/bootstrap installs it)"
command -v nginx >/dev/null || skip "nginx is not installed (scripts/bootstrap installs it)"
command -v certutil >/dev/null || skip "certutil is not installed (package libnss3-tools; scripts/bootstrap installs it)"
command -v node >/dev/null && command -v npm >/dev/null || skip "node and npm are not installed (scripts/bootstrap installs them)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
	skip "node $(node --version) is older than 18, which puppeteer-core needs"
[ -f "$WEB/index.html" ] && [ -f "$WEB/vendor/mqtt.min.js" ] ||
	skip "the web app is not built in $WEB (npm was missing when CMake configured $BUILD_DIR)"
"$CHROMIUM" --headless --no-sandbox --disable-gpu --dump-dom about:blank >"$T/chromium.out" 2>&1 </dev/null &
pid=$!
for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && { kill "$pid"; wait "$pid"; skip "Chromium did not finish a blank page within 60 s"; }
wait "$pid" || skip "Chromium cannot run here: $(grep -v '^\s*$' "$T/chromium.out" | tail -2 | tr '\n' ' ')"

# The driver's packages, as tests/web/package-lock.json pins them, in the build tree: npm ci
# once per change of the lockfile, under a lock (both ctest modes may get here at once).
DRV_DIR=$BUILD_DIR/web-test
mkdir -p "$DRV_DIR"
(
	flock 9
	if ! cmp -s "$ROOT/tests/web/package-lock.json" "$DRV_DIR/package-lock.json" || [ ! -d "$DRV_DIR/node_modules/puppeteer-core" ]; then
		cp "$ROOT/tests/web/package.json" "$ROOT/tests/web/package-lock.json" "$DRV_DIR/" &&
			(cd "$DRV_DIR" && PUPPETEER_SKIP_DOWNLOAD=1 timeout 300 npm ci --prefer-offline --ignore-scripts \
				--no-audit --no-fund --loglevel=error) >"$T/npm.out" 2>&1 || exit 3
	fi
	cp "$ROOT/tests/web/drive.mjs" "$DRV_DIR/drive.mjs.$$" && mv "$DRV_DIR/drive.mjs.$$" "$DRV_DIR/drive.mjs"
) 9>"$DRV_DIR.lock"
case $? in
0) ;;
3) skip "npm ci could not install puppeteer-core (no registry and nothing in npm's cache?): $(tail -2 "$T/npm.out" | tr '\n' ' ')" ;;
*) fail "cannot set up the driver in $DRV_DIR" ;;
esac
rm -rf "$SHOTS"
mkdir -p "$SHOTS"

# --- the PKI, and broker-config --web ------------------------------------------------------------
mkdir -p "$T/pki"
"$GARAGECTL" pki init --dir "$T/pki" >/dev/null || fail "garagectl pki init"
"$GARAGECTL" pki issue --dir "$T/pki" --server localhost --ip 127.0.0.1 >/dev/null || fail "pki issue --server"
for c in garage.local ctl.local; do
	"$GARAGECTL" pki issue --dir "$T/pki" --client "$c" >/dev/null || fail "pki issue --client $c"
done
PORT=$(free_port)
WSPORT=$(free_port)
HTTPS=$(free_port)
# nginx's workers read the web app as nobody: a copy in the scratch folder, open to all.
cp -r "$WEB" "$T/web" && chmod -R a+rX "$T/web"
bc() { "$GARAGECTL" broker-config --dir "$T/pki" --server localhost --device garage:garage.local \
	--controller ctl.local --port "$PORT" "$@"; }

expect_exit 2 bc --web-user phone
grep -q -- '--web PORT' "$T/err" || fail "--web-user without --web: $(cat "$T/err")"
expect_exit 2 bc --web "$PORT"
expect_exit 2 bc --web "$HTTPS" --web-mqtt-port "$HTTPS"
expect_exit 2 bc --web "$HTTPS" --web-root relative/web
expect_exit 2 bc --web "$HTTPS" --web-root '/srv/$web'
expect_exit 2 bc --web "$HTTPS" --web-user 'a:b'
expect_exit 2 bc --web "$HTTPS" --web-user ctl.local
grep -q 'also a certificate' "$T/err" || fail "a --web-user that is a CN: $(cat "$T/err")"
[ ! -e "$T/pki/web-login" ] && [ ! -e "$T/pki/mosquitto.conf" ] || fail "a refused broker-config --web wrote files"
pass "broker-config refuses --web-* without --web, ports that collide, a relative or unquotable --web-root, a bad or CN --web-user"

WEBARGS=(--web "$HTTPS" --web-mqtt-port "$WSPORT" --web-root "$T/web" --web-user phone)
expect_exit 0 bc "${WEBARGS[@]}"
cp "$T/out" "$T/bc.out"
C=$T/pki/mosquitto.conf
for l in 'per_listener_settings true' "listener $WSPORT 127.0.0.1" 'protocol websockets' \
	"password_file $T/pki/web-passwd" "acl_file $T/pki/web-acl" "acl_file $T/pki/acl" 'use_identity_as_username true'; do
	grep -qx "$l" "$C" || fail "mosquitto.conf lacks '$l': $(grep -v '^#' "$C")"
done
# per_listener_settings: nothing of a login's before the first listener (it would make a 1883 one).
sed -n '/^listener /q;p' "$C" | grep -E '^(allow_anonymous|acl_file|password_file)' &&
	fail "mosquitto.conf sets a listener's login before the first listener"
[ "$(grep -c '^allow_anonymous false$' "$C")" = 2 ] || fail "each listener must refuse anonymous clients"
[ "$(grep -v '^#' "$T/pki/web-acl" | grep -v '^$' | tr '\n' ';')" = "user phone;topic write garage/+/+/cmd;topic write garage/+/enroll;topic read garage/+/availability;topic read garage/+/+/state;topic read garage/+/events;topic read garage/+/keys;" ] ||
	fail "web-acl: $(cat "$T/pki/web-acl")"
[ "$(stat -c %a "$T/pki/web-login")" = 600 ] || fail "web-login is mode $(stat -c %a "$T/pki/web-login")"
grep -q '^phone:\$7\$' "$T/pki/web-passwd" || fail "web-passwd holds no hash: $(cat "$T/pki/web-passwd")"
PASS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pass"])' "$T/pki/web-login") || fail "web-login: $(cat "$T/pki/web-login")"
grep -qF "$PASS" "$T/pki/web-passwd" && fail "web-passwd holds the password in clear"
N=$T/pki/nginx-garaged.conf
for l in "listen $HTTPS ssl http2;" "ssl_certificate \"$T/pki/localhost.crt\";" "ssl_certificate_key \"$T/pki/localhost.key\";" \
	"root \"$T/web\";" 'location = /mqtt {' "proxy_pass http://127.0.0.1:$WSPORT;" 'proxy_set_header Upgrade $http_upgrade;' \
	'proxy_set_header Connection "upgrade";'; do
	grep -qxF "$(printf '\t%s' "$l")" "$N" || grep -qxF "$(printf '\t\t%s' "$l")" "$N" || fail "the nginx site lacks '$l': $(cat "$N")"
done
LINK=$(sed -n 's/^  garage: //p' "$T/bc.out")
[[ $LINK == "https://localhost:$HTTPS/#.."* ]] || fail "broker-config printed no link for device garage: $(cat "$T/bc.out")"
CONN=${LINK#*#..}
python3 - "$CONN" "$PASS" <<'PY' || fail "the link's connection part is not the documented JSON"
import base64, json, sys
c = json.loads(base64.urlsafe_b64decode(sys.argv[1] + "=" * (-len(sys.argv[1]) % 4)))
assert c == {"v": 1, "user": "phone", "pass": sys.argv[2], "prefix": "garage", "device": "garage"}, c
PY
expect_exit 0 bc "${WEBARGS[@]}"
grep -q 'its password kept' "$T/out" && grep -qF "\"pass\":\"$PASS\"" "$T/pki/web-login" ||
	fail "a second run of broker-config --web did not keep the password: $(cat "$T/out")"
pass "broker-config --web: a WebSockets listener on 127.0.0.1 with its own password and ACL beside the certificate listener, a 0600 login kept across runs, an nginx site, a link"

# --- Mosquitto, nginx, garaged ------------------------------------------------------------------
# As the demo does: root in a scratch folder, every listener on loopback.
{ echo "user root"; sed -e "s/^listener $PORT\$/listener $PORT 127.0.0.1/" "$C"; } >"$T/mosquitto.conf"
run_broker
for _ in $(seq 50); do ss -ltn | grep -qE "[:*]$WSPORT " && break; sleep 0.1; done
ss -ltn | grep -qE "[:*]$WSPORT " || fail "Mosquitto does not listen for WebSockets on $WSPORT: $(tail -3 "$T/mosquitto.log")"
# Mosquitto before 2.0.12 (Debian 12 has 2.0.11) binds a WebSockets listener to every address
# whatever its listener line says (its issue 3045): docs/phone.md has the firewall rule. Later
# ones keep it to 127.0.0.1, and that is checked.
mver=$(mosquitto -h 2>/dev/null | sed -n 's/^mosquitto version \([0-9.]*\).*/\1/p')
if printf '2.0.12\n%s\n' "$mver" | sort -V -C; then
	ss -ltn | grep -E "[:*]$WSPORT " | grep -qv "127.0.0.1:$WSPORT " && fail "the WebSockets listener is on more than 127.0.0.1"
	pass "Mosquitto $mver keeps the WebSockets listener to 127.0.0.1"
else
	echo "NOTE: Mosquitto $mver binds the WebSockets listener to every address despite 'listener $WSPORT 127.0.0.1' (fixed in 2.0.12; docs/phone.md says how to firewall it); this test connects to it through 127.0.0.1 only"
fi

start_nginx "$N" "$HTTPS"
if command -v curl >/dev/null; then
	curl -sS --http2 --cacert "$T/pki/ca.crt" -D "$T/headers" -o "$T/index.html" "https://localhost:$HTTPS/" ||
		fail "curl cannot load the page: $(tail -3 "$NG/error.log")"
	head -1 "$T/headers" | grep -q '^HTTP/2 200' || fail "the page is not served with HTTP/2: $(head -1 "$T/headers")"
	grep -qi "^content-security-policy: default-src 'none'; script-src 'self'" "$T/headers" || fail "no CSP: $(cat "$T/headers")"
	cmp -s "$T/index.html" "$T/web/index.html" || fail "nginx served another index.html"
	pass "nginx serves the web app over HTTPS with HTTP/2 and its Content-Security-Policy"
fi

keypair owner
OWNER_PUB=$PUB_B64
write_conf
# The file garaged manages (an enrollment adds to it), in its state directory as docs/setup.md
# installs it, so that garaged may write it under the unit's mode too.
keys_in_state
echo "ed25519 $OWNER_PUB owner admin" >"$KEYS"
chmod 600 "$KEYS"
start_garaged
online 15 || fail "garaged did not come online within 15 s"

# --- the browser --------------------------------------------------------------------------------
export HOME=$T/home CHROMIUM PROFILES=$T/profiles
mkdir -p "$HOME/.pki/nssdb" "$PROFILES"
certutil -d "sql:$HOME/.pki/nssdb" -N --empty-password || fail "certutil -N"
certutil -d "sql:$HOME/.pki/nssdb" -A -t "C,," -n "garaged test CA" -i "$T/pki/ca.crt" || fail "certutil -A"

coproc DRV { cd "$DRV_DIR" && exec node drive.mjs 2>>"$T/driver.log"; }
DRV_PID_=$DRV_PID
PIDS+=("$DRV_PID_")
DRV_IN=${DRV[1]}
DRV_OUTFD=${DRV[0]}
# Chromium's processes are the driver's children; should the driver die without closing them,
# they are found by this run's own profile folder and ended by PID.
drv_quit() {
	[ -n "${DRV_IN:-}" ] && { echo quit >&"$DRV_IN"; IFS= read -r -t 20 _ <&"$DRV_OUTFD"; } 2>/dev/null
	DRV_IN=
	local p
	for p in $(pgrep -f -- "--user-data-dir=$PROFILES/" 2>/dev/null); do kill "$p" 2>/dev/null; done
}
trap 'rc=$?; drv_quit; (exit $rc); cleanup' EXIT
# drv WORDS...: one command to the driver (see drive.mjs); its answer's value in OUT; 1 when
# it answered err. A driver that does not answer within 90 s fails the test.
drv() {
	local line
	echo "$*" >&"$DRV_IN" || fail "the browser driver is gone: $(tail -3 "$T/driver.log")"
	IFS= read -r -t 90 line <&"$DRV_OUTFD" || fail "the browser driver did not answer '$*' within 90 s: $(tail -3 "$T/driver.log")"
	OUT=
	[[ $line == "ok "* ]] && OUT=${line#ok }
	[[ $line == ok* ]] && return 0
	OUT=${line#err }
	return 1
}
want() { drv "$@" || fail "$*: $OUT"; }
SHOT=0
shot() { # shot PROFILE NAME: the viewport to $SHOTS/NN-NAME.png
	SHOT=$((SHOT + 1))
	want shot "$1" "$SHOTS/$(printf %02d "$SHOT")-$2.png"
	want page "$1"
}

want launch a
echo "   browser: $OUT"
want goto a "https://localhost:$HTTPS/#..$CONN"
[ "$OUT" = h2 ] || fail "the page came over $OUT, not HTTP/2"
want wait a broker - connected 20
want wait a availability - online 20
want wait a state main closed 20
shot a connected
pass "the page loads over HTTPS with HTTP/2, trusting the CA through NSS; the broker login from the link; the door shows closed, the device online"

# The page's own signer (its modules, the browser's WebCrypto) on docs/protocol.md's vector:
# the command's, the page's first (the admin message's follows).
vec() { sed -n "s/^| $1[^|]*| \`\\([^\`]*\\)\` |\$/\\1/p" "$ROOT/docs/protocol.md" | head -1; }
IFS=$'\n' read -r -d '' _ _ door action ts nonce kid < <(vec 'signed text' | sed 's/\\n/\n/g'; printf '\0')
want signer a "$(vec 'private key')" "$(vec 'device id')" "$door" "$action" "$ts" "$nonce" "$kid"
[ "$OUT" = "$(vec 'signature')" ] || fail "the page's signer made $OUT, docs/protocol.md says $(vec 'signature')"
pass "the page's signer reproduces docs/protocol.md's test vector in Chromium's WebCrypto"

# The manual path: the page's authorized_keys line, added by hand and SIGHUP.
want keyline a
KEYLINE=$OUT
read -r _ PAGE_PUB PAGE_KID <<<"$KEYLINE"
echo "$KEYLINE" >>"$KEYS"
loads=$(count 'authorized key\(s\) from' "$T/garaged.log")
kill -HUP "$GARAGED_PID"
await_count 'authorized key\(s\) from' $((loads + 1)) 10 "$T/garaged.log" || fail "garaged did not reload its keys within 10 s of SIGHUP"
grep -q "2 authorized key(s) from" "$T/garaged.log" || fail "garaged did not take the page's key: $(tail -3 "$T/garaged.log")"

edges=$(relay_edges)
want click a main open
want wait a result main accepted 15
want wait a state main open 20
shot a open
[ "$(relay_edges)" = $((edges + 1)) ] || fail "the relay was pressed $(($(relay_edges) - edges)) times for open, want 1"
want click a main close
want wait a result main accepted 15
want wait a state main closed 20
shot a closed
grep -q "\"kid\":\"$PAGE_KID\".*\"result\":\"accepted\"" "$T/garaged.log" || fail "garaged logged no accepted command of $PAGE_KID"
pass "the page's key ($PAGE_KID, added to authorized_keys): open shows accepted, then open; close, then closed"

# The broker goes away and comes back.
stop_broker
want wait a broker - unreachable 20
shot a broker-unreachable
run_broker
want wait a broker - connected 30
online 20 || fail "garaged did not come back after the broker's restart"
want wait a availability - online 20
want click a main open
want wait a result main accepted 15
want wait a state main open 20
shot a recovered
pass "with Mosquitto stopped the page says the broker is unreachable; after its restart it reconnects by itself and the door opens"

# The key is removed: the device refuses it, and the page says why.
grep -vF "$KEYLINE" "$KEYS" >"$T/keys.new" && cat "$T/keys.new" >"$KEYS"
loads=$(count 'authorized key\(s\) from' "$T/garaged.log")
kill -HUP "$GARAGED_PID"
await_count 'authorized key\(s\) from' $((loads + 1)) 10 "$T/garaged.log" || fail "garaged did not reload its keys within 10 s of SIGHUP"
want click a main close
want wait a result main unknown_key 15
shot a unknown-key
want wait a state main open 5
pass "a removed key: the page shows unknown_key, and the door stays open"

# --- enrollment by invitation (issue 15) -------------------------------------------------------
# The owner's garagectl invite --url with the web app's address and --web-login with the login
# broker-config --web wrote: the link it prints is BASE#INVITATION.SECRET.LOGIN, all a phone that
# never opened the web app needs (docs/phone.md).
chmod 600 "$T/owner.ed.key"
write_ctl_conf "$T/ctl.conf" "$T/owner.ed.key" owner
expect_exit 2 "$GARAGECTL" -c "$T/ctl.conf" invite --kid web-invited --web-login "$T/pki/web-login"
grep -q -- '--web-login goes with --url' "$T/err" || fail "--web-login without --url: $(cat "$T/err")"
expect_exit 0 "$GARAGECTL" -c "$T/ctl.conf" invite --kid web-invited --expires 1h \
	--url "https://localhost:$HTTPS/" --web-login "$T/pki/web-login"
INVITE_URL=$(cat "$T/out")
[[ $INVITE_URL == "https://localhost:$HTTPS/#"*.*.* ]] || fail "garagectl invite --url --web-login printed: $INVITE_URL"
LOGIN_PART=${INVITE_URL##*.}
python3 - "$LOGIN_PART" "$T/pki/web-login" <<'PY' || fail "the link's third part is not web-login's bytes"
import base64, sys
got = base64.urlsafe_b64decode(sys.argv[1] + "=" * (-len(sys.argv[1]) % 4))
assert got == open(sys.argv[2], "rb").read().rstrip(b"\n"), got
PY
want launch b
want goto b "$INVITE_URL"
want wait b broker - connected 20
want settle b enrollment - 30
ENROLLED=$OUT
shot b enrollment
case $ENROLLED in
enrolled)
	want wait b state main open 20
	want click b main close
	want wait b result main accepted 15
	want wait b state main closed 20
	shot b enrolled-closed
	want launch c
	want goto c "$INVITE_URL"
	want settle c enrollment - 30
	[ "$OUT" = invitation_used ] || fail "a second profile with the same invitation: [data-enrollment] says $OUT, want invitation_used"
	shot c invitation-refused
	pass "an invitation enrols the page's key (it closes the door); a second profile with the same invitation is refused (invitation_used)"
	;;
*) fail "the device refused the invitation: [data-enrollment] says $ENROLLED" ;;
esac

# --- the page's errors and the screenshots ------------------------------------------------------
for p in a b $([ "$ENROLLED" = enrolled ] && echo c); do
	want errors "$p"
	python3 - "$OUT" "$p" <<'PY' || fail "the page ($p) had errors: $OUT"
import json, sys
# The browser reports a WebSocket that failed while the broker was down as a console error:
# that one is expected; anything else is not.
errs = [e for e in json.loads(sys.argv[1]) if "WebSocket connection to" not in e]
if errs:
    print("\n".join(errs)); sys.exit(1)
PY
done
drv_quit
python3 - "$SHOTS" <<'PY' || fail "a screenshot is not a page"
# Each screenshot: a PNG of the viewport (412 x 860), decoded here (zlib and PNG's filters)
# and checked to hold a page: many colours, none of them most of the picture.
import os, struct, sys, zlib
d = sys.argv[1]
files = sorted(f for f in os.listdir(d) if f.endswith(".png"))
assert len(files) >= 6, files
for f in files:
    raw = open(os.path.join(d, f), "rb").read()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n", f + ": not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(raw):
        n, kind = struct.unpack(">I4s", raw[pos:pos + 8])
        body = raw[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    assert (w, h) == (412, 860), "%s: %dx%d" % (f, w, h)
    assert depth == 8 and ctype in (2, 6), "%s: colour type %d" % (f, ctype)
    bpp = 3 if ctype == 2 else 4
    data, stride, prev, counts = zlib.decompress(idat), w * bpp, bytearray(w * bpp), {}
    for y in range(h):
        ft, line = data[y * (stride + 1)], bytearray(data[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ft == 1: line[i] = (line[i] + a) & 255
            elif ft == 2: line[i] = (line[i] + b) & 255
            elif ft == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        if y % 4 == 0:
            for x in range(0, w, 2):
                px = bytes(line[x * bpp:x * bpp + 3])
                counts[px] = counts.get(px, 0) + 1
        prev = line
    top = max(counts.values()) / sum(counts.values())
    assert len(counts) >= 16 and top < 0.9, "%s: %d colours, the commonest %.0f%%: blank?" % (f, len(counts), 100 * top)
    print("   %s: %d bytes, %d colours" % (f, len(raw), len(counts)))
PY
pass "$(ls "$SHOTS"/*.png | wc -l) screenshots in $SHOTS, each a page; the page logged no error"
