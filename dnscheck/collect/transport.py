"""One DNS query on the wire, over UDP (a socket of its own) or TCP, as bytes in and bytes out.

Why not dns.asyncquery: a datagram endpoint per query and a dnspython Message each way were most of the cost of
asking authoritative servers, and dnscheck.collect.wire reads the answer anyway. What dnspython's `udp` does for
safety is kept: a socket of its own per query (a fresh random source port, RFC 5452), connected to the server so
that the kernel drops datagrams from anyone else and reports an ICMP error (port unreachable: OSError at once, as
dnspython's connected socket does), a random message ID, and a datagram under another ID or for another question
ignored (the real answer may still come).
"""

from __future__ import annotations

import asyncio
import random
import socket

import dns.exception

from dnscheck.collect.wire import repeats

_ids = random.SystemRandom()


async def udp(address: str, port: int, wire: bytes, asked: bytes, timeout: float) -> bytes:
    """The first datagram from (`address`, `port`) that answers `wire` (its ID, and `asked`: its question section,
    the name lower-cased). dns.exception.Timeout after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.connect((address, port))
        qid = _ids.getrandbits(16).to_bytes(2, "big")
        await loop.sock_sendall(sock, qid + wire[2:])
        async with asyncio.timeout(timeout):
            while True:
                data = await loop.sock_recv(sock, 65535)
                if data[:2] == qid and repeats(data, asked):
                    return data
    except TimeoutError:
        raise dns.exception.Timeout from None
    finally:
        sock.close()


async def tcp(address: str, port: int, wire: bytes, timeout: float) -> bytes:
    """The answer to `wire` over TCP (RFC 7766: a two-octet length, then the message), under a fresh ID; the ID of
    `wire` is put back in it. dns.exception.Timeout after `timeout` seconds, or when the server hangs up early."""
    qid = _ids.getrandbits(16).to_bytes(2, "big")
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(address, port)
            try:
                writer.write(len(wire).to_bytes(2, "big") + qid + wire[2:])
                size = int.from_bytes(await reader.readexactly(2), "big")
                data = await reader.readexactly(size)
            finally:
                writer.close()
    except (TimeoutError, asyncio.IncompleteReadError):
        raise dns.exception.Timeout from None
    if data[:2] != qid:
        raise dns.exception.FormError("an answer over TCP under another ID")
    return wire[:2] + data[2:]
