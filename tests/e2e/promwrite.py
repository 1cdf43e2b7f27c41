# SPDX-License-Identifier: Apache-2.0
"""Prometheus remote_write 1.0 request bodies for the e2e tests.

A protobuf encoder just big enough for prometheus.WriteRequest (field
numbers from Prometheus's prompb/remote.proto and types.proto:
WriteRequest.timeseries=1, .metadata=3; TimeSeries.labels=1, .samples=2;
Label.name=1, .value=2; Sample.value=1 (double), .timestamp=2 (int64 ms);
MetricMetadata.type=1, .metric_family_name=2, .help=4, .unit=5), plus the
headers Prometheus sends with a snappy block-compressed body. One copy,
shared by every test that writes through /api/v1/write.
"""
import struct
import urllib.error
import urllib.request


def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field_len(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def field_varint(num, v):
    return varint(num << 3) + varint(v)


def field_double(num, v):
    return varint(num << 3 | 1) + struct.pack("<d", v)


def timeseries(labels, samples):
    """labels: [(name, value)], samples: [(value, timestamp_ms)]."""
    out = b""
    for k, v in labels:
        out += field_len(1, field_len(1, k.encode()) + field_len(2, v.encode()))
    for value, ts in samples:
        out += field_len(2, field_double(1, value) + field_varint(2, ts))
    return out


def write_request(series, metadata=()):
    """series: [(labels, samples)]; metadata: [(type, family, help, unit)]."""
    out = b"".join(field_len(1, timeseries(ls, ss)) for ls, ss in series)
    for mtype, name, help_, unit in metadata:
        out += field_len(3, field_varint(1, mtype) + field_len(2, name.encode()) +
                         field_len(4, help_.encode()) + field_len(5, unit.encode()))
    return out


RW_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}


def post(url, body, headers=None):
    """POSTs body; returns (status, text) for success and HTTP errors alike."""
    req = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def send(base_url, raw, headers=RW_HEADERS):
    """snappy-compresses a WriteRequest and POSTs it to base_url/api/v1/write."""
    import snappy  # python3-snappy; callers importorskip it first
    return post(base_url + "/api/v1/write", snappy.compress(raw), headers)
