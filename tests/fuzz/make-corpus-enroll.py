#!/usr/bin/env python3
# tests/fuzz/make-corpus-enroll.py DIR: the seed corpus of fuzz-enroll (tests/fuzz/corpus/enroll),
# requests and invitations signed for real with the fixed keys of tests/fuzz/fuzz-enroll.c by
# Python's cryptography (OpenSSL). Invitation ids are random: each run writes other bytes.
import base64, json, os, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

out = sys.argv[1]
NOW = 1795547700
def key(first):
    k = Ed25519PrivateKey.from_private_bytes(bytes(range(first, first + 32)))
    return k, k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
alice, bob, ik, carol, dave = key(0x00), key(0x20), key(0x40), key(0x60), key(0x80)
b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
b64 = lambda b: base64.b64encode(b).decode()
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ACTS = ["open", "close", "stop", "toggle"]

def options(inv):
    o = []
    acts = [a for a in ACTS if a in inv["actions"]]
    if len(acts) != 4: o.append("actions=" + ",".join(acts))
    if inv["doors"] != "all": o.append("doors=" + ",".join(inv["doors"]))
    for f in ("not_before", "not_after"):
        if f in inv: o.append(f + "=" + inv[f])
    if "days" in inv: o.append("days=" + ",".join(d for d in DAYS if d in inv["days"]))
    if "hours" in inv: o.append("hours=" + inv["hours"])
    return " ".join(o)

def invitation(signer, **kw):
    inv = {"v": 1, "device": "garage", "id": b64u(os.urandom(16)), "kid": "dave",
           "actions": ["open"], "doors": "all", "expires": NOW + 3600, "ik": b64u(ik[1]),
           "by": "alice-phone"}
    inv.update(kw)
    text = "garaged-invite-v1\n%s\n%s\n%s\n%s\n%d\n%s\n%s" % (
        inv["device"], inv["id"], inv["kid"], options(inv), inv["expires"], inv["ik"], inv["by"])
    inv["sig"] = b64u(signer[0].sign(text.encode()))
    return inv

def request(inv, new=dave, prover=ik, ts=NOW, nonce="FuZz-nOnCe-1", device="garage"):
    js = json.dumps(inv, separators=(",", ":")).encode()
    pub = b64(new[1])
    text = "garaged-enroll-v1\n%s\n%s\n%s\n%s\n%d\n%s" % (device, inv["id"], inv["kid"], pub, ts, nonce)
    return json.dumps({"v": 1, "inv": b64u(js), "pub": pub, "ts": ts, "nonce": nonce,
                       "proof": b64u(prover[0].sign(text.encode())),
                       "sig": b64u(new[0].sign(text.encode()))}, separators=(",", ":")).encode()

def write(name, head, payload):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes(head) + payload)

REQ, INV, RET = [0x02, 0xc0], [0x42, 0xc0], [0x82, 0xc0]
carol_ok = dict(by="carol", kid="erin", actions=["open"], doors=["main"],
                not_after="2026-12-01T00:00:00Z", days=["tue"], hours="19:00-20:00")
every = dict(kid="frank", actions=["close", "open"], doors=["side", "main"],
             not_before="2026-11-01T00:00:00Z", not_after="2026-12-31T23:59:59Z",
             days=["tue", "mon"], hours="22:00-06:00")
write("ok-alice-dave", REQ, request(invitation(alice)))
write("ok-carol-within", REQ, request(invitation(carol, **carol_ok)))
write("ok-every-limit", REQ, request(invitation(alice, **every)))
write("over-carol-stop", REQ, request(invitation(carol, **dict(carol_ok, actions=["open", "stop"]))))
write("over-carol-all-doors", REQ, request(invitation(carol, **dict(carol_ok, doors="all"))))
write("over-carol-hours", REQ, request(invitation(carol, **dict(carol_ok, hours="06:00-08:00"))))
write("key-exists-bob", REQ, request(invitation(alice, kid="bob")))
write("expired", REQ, request(invitation(alice, expires=NOW - 1)))
write("bad-proof", REQ, request(invitation(alice), prover=dave))
write("bad-signature", REQ, request(invitation(alice), new=(alice[0], dave[1])))
write("bad-invitation", REQ, request(invitation(bob)))
write("wrong-device", REQ, request(invitation(alice, device="shed")))
write("not-admin-bob", REQ, request(invitation(bob, by="bob")))
write("guest-expired", REQ, request(invitation(alice, by="guest")))
write("unknown-key", REQ, request(invitation(alice, by="mallory")))
write("stale", REQ, request(invitation(alice), ts=NOW - 100))
write("pub-is-ik", REQ, request(invitation(alice), new=ik))
write("retained", RET, request(invitation(alice)))
write("too-large", REQ, request(invitation(alice))[:-1] + b" " * 1400 + b"}")
inv = lambda **kw: json.dumps(invitation(alice, **kw), separators=(",", ":")).encode()
write("inv-alice-dave", INV, inv())
write("inv-every-limit", INV, inv(**every))
write("inv-carol-within", INV, json.dumps(invitation(carol, **carol_ok)).encode())
write("inv-carol-over", INV, json.dumps(invitation(carol, **dict(carol_ok, days=["thu"]))).encode())
write("inv-escape", INV, inv(kid="da\\u0076e"))
