"""hostile_broker: the pieces of a small TLS MQTT server that the tests of a broker gone wrong
share (test-broker-stall.sh, test-attack-tls-partial-record.sh): it listens on loopback with
the testbed's certificate, requires the client's, accepts garaged's session and then does what
the test wants, which garaged's real broker never would. Every wait is bounded."""
import os
import socket
import ssl
import sys
import time


def say(s):
    print(s, flush=True)


def accept(t, port):
    """Listens on 127.0.0.1:PORT and returns the first client's TLS connection (30 s at most)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(f"{t}/pki/localhost.crt", f"{t}/pki/localhost.key")
    ctx.load_verify_locations(f"{t}/pki/ca.crt")
    ctx.verify_mode = ssl.CERT_REQUIRED
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1)
    ls.settimeout(30)
    conn, _ = ls.accept()
    conn.settimeout(30)
    return ctx.wrap_socket(conn, server_side=True)


def read_exact(c, n):
    b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x:
            sys.exit("garaged hung up")
        b += x
    return b


def packet(c):
    """One MQTT packet: (first byte, body)."""
    h = read_exact(c, 1)[0]
    mult, rl = 1, 0
    while True:
        d = read_exact(c, 1)[0]
        rl += (d & 127) * mult
        mult *= 128
        if not d & 128:
            break
    return h, read_exact(c, rl)


def remlen(n):
    """MQTT's variable-length remaining length."""
    out = b""
    while True:
        d, n = n % 128, n // 128
        out += bytes([d | (128 if n else 0)])
        if not n:
            return out


def session(c):
    """CONNECT answered with CONNACK, then every SUBSCRIBE with a SUBACK granting QoS 0, until
    the one of the command topics (15 s at most); garaged's own publishes are never answered."""
    h, _ = packet(c)
    assert h >> 4 == 1, "CONNECT first"
    c.sendall(b"\x20\x02\x00\x00")
    say("connack")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        h, body = packet(c)
        if h >> 4 != 8:
            continue
        pid, rest, topics = body[:2], body[2:], []
        while rest:
            ln = int.from_bytes(rest[:2], "big")
            topics.append(rest[2:2 + ln].decode())
            rest = rest[3 + ln:]
        c.sendall(bytes([0x90]) + remlen(2 + len(topics)) + pid + b"\x00" * len(topics))
        if any(x.endswith("/+/cmd") for x in topics):
            return
    sys.exit("no SUBSCRIBE to the command topics")


def wait_for(path, tenths):
    """Until PATH exists, at most TENTHS tenths of a second."""
    for _ in range(tenths):
        if os.path.exists(path):
            return
        time.sleep(0.1)
