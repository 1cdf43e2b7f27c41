# SPDX-License-Identifier: Apache-2.0
"""Decoder for remote_write 1.0 requests (snappy block format + protobuf
WriteRequest), in the Python standard library only, so that bench/smoke
can check what trine-benchgen writes without any server or extra package.
Slow (pure Python); meant for a few thousand samples, not a benchmark."""

import struct


def snappy_decompress(buf):
    """Decompresses one snappy block (not the framed stream format)."""
    pos, n, shift = 0, 0, 0
    while True:  # preamble: uncompressed length, uvarint
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            break
    out = bytearray()
    while pos < len(buf):
        tag = buf[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:  # literal
            ln = tag >> 2
            if ln >= 60:
                nb = ln - 59
                ln = int.from_bytes(buf[pos:pos + nb], "little")
                pos += nb
            ln += 1
            out += buf[pos:pos + ln]
            pos += ln
            continue
        if kind == 1:
            ln = ((tag >> 2) & 7) + 4
            off = ((tag >> 5) << 8) | buf[pos]
            pos += 1
        elif kind == 2:
            ln = (tag >> 2) + 1
            off = int.from_bytes(buf[pos:pos + 2], "little")
            pos += 2
        else:
            ln = (tag >> 2) + 1
            off = int.from_bytes(buf[pos:pos + 4], "little")
            pos += 4
        if off == 0 or off > len(out):
            raise ValueError("snappy: bad copy offset %d" % off)
        start = len(out) - off
        for i in range(ln):  # copies may overlap their own output
            out.append(out[start + i])
    if len(out) != n:
        raise ValueError("snappy: length %d, preamble says %d" % (len(out), n))
    return bytes(out)


def _fields(buf):
    """Yields (field number, wire type, value) of one protobuf message."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, pos = _varint(buf, pos)
        elif wt == 1:
            v = buf[pos:pos + 8]
            pos += 8
        elif wt == 2:
            ln, pos = _varint(buf, pos)
            v = buf[pos:pos + ln]
            if len(v) != ln:
                raise ValueError("protobuf: truncated field %d" % num)
            pos += ln
        elif wt == 5:
            v = buf[pos:pos + 4]
            pos += 4
        else:
            raise ValueError("protobuf: wire type %d" % wt)
        yield num, wt, v


def _varint(buf, pos):
    v, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return v, pos


def decode_write_request(body):
    """Returns [(labels as [(name, value)], [(value, ts_ms)])] from a
    protobuf WriteRequest (already decompressed)."""
    series = []
    for num, wt, ts in _fields(body):
        if num != 1 or wt != 2:
            continue
        labels, samples = [], []
        for fnum, fwt, v in _fields(ts):
            if fnum == 1 and fwt == 2:
                name = value = ""
                for lnum, _, lv in _fields(v):
                    if lnum == 1:
                        name = lv.decode()
                    elif lnum == 2:
                        value = lv.decode()
                labels.append((name, value))
            elif fnum == 2 and fwt == 2:
                val, t = 0.0, 0
                for snum, _, sv in _fields(v):
                    if snum == 1:
                        val = struct.unpack("<d", sv)[0]
                    elif snum == 2:
                        t = sv - (1 << 64) if sv >= 1 << 63 else sv
                samples.append((val, t))
        series.append((labels, samples))
    return series


def read_framed(path):
    """Yields the snappy bodies of a trine-benchgen --out file."""
    with open(path, "rb") as fp:
        while True:
            hdr = fp.read(4)
            if not hdr:
                return
            (ln,) = struct.unpack("<I", hdr)
            body = fp.read(ln)
            if len(body) != ln:
                raise ValueError("truncated frame")
            yield body
