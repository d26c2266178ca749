"""The server side of RFC 6455, as much as the exec API needs: the handshake with the
``v5.channel.k8s.io`` / ``v4.channel.k8s.io`` subprotocols, masked client frames (fragmented
or not), unmasked server frames, ping/close."""

from __future__ import annotations

import base64
import hashlib
import struct
from typing import Protocol


class Readable(Protocol):
    def read(self, n: int = ..., /) -> bytes: ...


GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def pick_protocol(header: str) -> str | None:
    offered = [p.strip() for p in header.split(",") if p.strip()]
    return next((p for p in PROTOCOLS if p in offered), None)


def _read_exact(rfile: Readable, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = rfile.read(n - len(data))
        if not chunk:
            raise EOFError("websocket closed")
        data += chunk
    return data


def read_message(rfile: Readable) -> tuple[int, bytes]:
    """One whole message (fragments joined); control frames are returned as they come."""
    opcode, payload = -1, b""
    while True:
        b1, b2 = _read_exact(rfile, 2)
        fin, op = b1 & 0x80, b1 & 0x0F
        if not b2 & 0x80:
            raise ValueError("client frames must be masked (RFC 6455 5.1)")
        length = b2 & 0x7F
        if length == 126:
            length = struct.unpack(">H", _read_exact(rfile, 2))[0]
        elif length == 127:
            length = struct.unpack(">Q", _read_exact(rfile, 8))[0]
        mask = _read_exact(rfile, 4)
        data = _unmask(_read_exact(rfile, length), mask)
        if op >= 0x8:
            return op, data
        if op != OP_CONT:
            opcode = op
        payload += data
        if fin:
            return opcode, payload


def _unmask(raw: bytes, mask: bytes) -> bytes:
    n = len(raw)
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(raw, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def frame(opcode: int, payload: bytes) -> bytes:
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + struct.pack(">H", n)
    else:
        head += bytes([127]) + struct.pack(">Q", n)
    return head + payload
