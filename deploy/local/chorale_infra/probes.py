"""Readiness probes in pure Python: Kafka's ApiVersions and MongoDB's hello/ping spoken on the
wire, so that no client library is needed."""

from __future__ import annotations

import socket
import struct

from .layout import PROG


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return bytes(buf)


def _kafka_request(
    sock: socket.socket, api_key: int, api_version: int, correlation: int, body: bytes
) -> bytes:
    client_id = PROG.encode()
    header = (
        struct.pack(">hhih", api_key, api_version, correlation, len(client_id)) + client_id
    )  # request header v1
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    (size,) = struct.unpack(">i", _recv_exact(sock, 4))
    data = _recv_exact(sock, size)
    (got,) = struct.unpack(">i", data[:4])
    if got != correlation:
        raise ConnectionError(f"unexpected correlation id {got}")
    return data[4:]  # response header v0 is the correlation id only


def kafka_probe(port: int, timeout: float = 3.0) -> tuple[bool, str]:
    """Readiness of a broker over a raw socket, in Kafka's own protocol.

    ApiVersions, then Metadata (the broker must list itself), then FindCoordinator for a group
    (the consumer offsets topic must exist and be loaded).
    """
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            body = _kafka_request(sock, 18, 0, 1, b"")  # ApiVersions v0 (kept by every Kafka)
            error, count = struct.unpack(">hi", body[:6])
            if error:
                return False, f"ApiVersions error {error}"
            versions = {}
            for i in range(count):
                key, lo, hi = struct.unpack(">hhh", body[6 + 6 * i : 12 + 6 * i])
                versions[key] = (lo, hi)
            if 3 not in versions:
                return False, "broker does not offer Metadata yet"
            lo, hi = versions[3]
            version = min(hi, 8)
            if version < max(lo, 4):
                return True, "ApiVersions answered (Metadata v4-v8 not offered, not checked)"
            req = struct.pack(">i", 0) + b"\x00"  # no topics, allow_auto_topic_creation=false
            if version >= 8:
                req += b"\x00\x00"  # include_{cluster,topic}_authorized_operations=false
            resp = _kafka_request(sock, 3, version, 2, req)
            off = 4  # throttle_time_ms
            (nbrokers,) = struct.unpack_from(">i", resp, off)
            off += 4
            brokers = []
            for _ in range(nbrokers):
                node, hlen = struct.unpack_from(">ih", resp, off)
                off += 6
                host = resp[off : off + hlen].decode()
                off += hlen
                (bport, rlen) = struct.unpack_from(">ih", resp, off)
                off += 6 + max(rlen, 0)
                brokers.append((node, host, bport))
            if not brokers:
                return False, "Metadata lists no broker yet"
            lo, hi = versions.get(10, (99, -1))
            if lo <= 1 <= hi:
                # FindCoordinator v1 creates __consumer_offsets on first use: waiting for it here
                # spares the first consumer group of every test run a COORDINATOR_NOT_AVAILABLE.
                key = b"chorale-infra-probe"
                req = struct.pack(">h", len(key)) + key + b"\x00"  # key_type 0 = group
                resp = _kafka_request(sock, 10, 1, 3, req)
                (error,) = struct.unpack_from(">h", resp, 4)
                if error:
                    return False, f"group coordinator not available yet (error {error})"
            return True, f"Metadata v{version}: brokers {brokers}; group coordinator available"
    except (OSError, ConnectionError, struct.error, UnicodeDecodeError) as exc:
        return False, f"{type(exc).__name__}: {exc}"


def _bson_encode(doc: dict) -> bytes:
    out = bytearray()
    for key, value in doc.items():
        k = key.encode() + b"\x00"
        if isinstance(value, bool):
            out += b"\x08" + k + (b"\x01" if value else b"\x00")
        elif isinstance(value, int):
            out += b"\x10" + k + struct.pack("<i", value)
        elif isinstance(value, str):
            v = value.encode()
            out += b"\x02" + k + struct.pack("<i", len(v) + 1) + v + b"\x00"
        else:
            raise TypeError(f"unsupported BSON value {value!r}")
    return struct.pack("<i", len(out) + 5) + bytes(out) + b"\x00"


def _bson_decode(data: bytes, off: int = 0) -> tuple[dict, int]:
    """Decode the BSON document at `off`; returns (document, offset after it). Common types only."""
    (size,) = struct.unpack_from("<i", data, off)
    end = off + size - 1
    pos = off + 4
    doc: dict = {}
    while pos < end:
        kind = data[pos]
        pos += 1
        nul = data.index(b"\x00", pos)
        key = data[pos:nul].decode()
        pos = nul + 1
        if kind == 0x01:
            doc[key] = struct.unpack_from("<d", data, pos)[0]
            pos += 8
        elif kind in (0x02, 0x0D, 0x0E):
            (n,) = struct.unpack_from("<i", data, pos)
            doc[key] = data[pos + 4 : pos + 3 + n].decode(errors="replace")
            pos += 4 + n
        elif kind in (0x03, 0x04):
            sub, pos = _bson_decode(data, pos)
            doc[key] = list(sub.values()) if kind == 0x04 else sub
        elif kind == 0x05:
            (n,) = struct.unpack_from("<i", data, pos)
            doc[key] = data[pos + 5 : pos + 5 + n]
            pos += 5 + n
        elif kind == 0x07:
            doc[key] = data[pos : pos + 12].hex()
            pos += 12
        elif kind == 0x08:
            doc[key] = data[pos] == 1
            pos += 1
        elif kind in (0x09, 0x11, 0x12):
            doc[key] = struct.unpack_from("<q", data, pos)[0]
            pos += 8
        elif kind in (0x0A, 0x06, 0xFF, 0x7F):
            doc[key] = None
        elif kind == 0x10:
            doc[key] = struct.unpack_from("<i", data, pos)[0]
            pos += 4
        elif kind == 0x13:
            doc[key] = data[pos : pos + 16]
            pos += 16
        else:
            raise ValueError(f"unsupported BSON type 0x{kind:02x}")
    return doc, end + 1


def mongo_command(port: int, command: dict, timeout: float = 3.0) -> dict:
    """Send one OP_MSG command (e.g. {"hello": 1, "$db": "admin"}) and return the reply document."""
    body = struct.pack("<I", 0) + b"\x00" + _bson_encode(command)
    header = struct.pack("<iiii", 16 + len(body), 1, 0, 2013)  # OP_MSG
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(header + body)
        length, _, _, opcode = struct.unpack("<iiii", _recv_exact(sock, 16))
        reply = _recv_exact(sock, length - 16)
    if opcode != 2013 or reply[4] != 0:
        raise ConnectionError(f"unexpected reply opcode {opcode}")
    doc, _ = _bson_decode(reply, 5)
    return doc


def ferretdb_probe(port: int, timeout: float = 3.0) -> tuple[bool, str]:
    """OP_MSG hello, then ping (which goes through the SQLite backend)."""
    try:
        hello = mongo_command(port, {"hello": 1, "$db": "admin"}, timeout)
        if hello.get("ok") != 1:
            return False, f"hello answered {hello}"
        ping = mongo_command(port, {"ping": 1, "$db": "admin"}, timeout)
        if ping.get("ok") != 1:
            return False, f"ping answered {ping}"
        return True, f"hello ok (maxWireVersion {hello.get('maxWireVersion')})"
    except (OSError, ConnectionError, ValueError, struct.error, IndexError) as exc:
        return False, f"{type(exc).__name__}: {exc}"
