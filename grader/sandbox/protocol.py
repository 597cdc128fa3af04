"""The wire format between the grader and its sandboxed workers: frames of JSON headers and raw bytes.

This module is imported on both sides of the trust boundary: by the grader as
``grader.sandbox.protocol`` and inside the sandbox, beside ``worker.py``, as
``protocol``. It uses only the standard library and NumPy.

A frame is ``MAGIC | u32 header length | header (UTF-8 JSON) | u32 blob count |
(u64 length | bytes) per blob``. Values inside a header are tagged dicts; arrays
travel as raw little-endian float64 (or int64) bytes in blobs. Nothing is ever
pickled or evaluated: what comes back from student code is parsed as data and
validated here, and anything malformed raises :class:`ProtocolError`.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

MAGIC = b"GRD1"
MAX_HEADER = 4 * 1024 * 1024
MAX_BLOBS = 4096
MAX_ELEMENTS = 4_000_000
MAX_DEPTH = 3
MAX_FRAMES = 100_000  # frames in one submission's results, beyond which they are garbled: it writes one at
# most every 20 ms (submission.FLUSH_S) as its calls go on, so this is over half an hour of calls
ALLOWED_DTYPES = {"<f8": np.float64, "<i8": np.int64}


class ProtocolError(ValueError):
    """A frame or value that does not follow the protocol (from a broken or hostile peer)."""


# ---------------------------------------------------------------- frames


def pack_frame(header: dict[str, Any], blobs: list[bytes] = ()) -> bytes:
    """Serialise one frame."""
    head = json.dumps(header, allow_nan=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "replace")
    parts = [MAGIC, struct.pack("<I", len(head)), head, struct.pack("<I", len(blobs))]
    for blob in blobs:
        parts.append(struct.pack("<Q", len(blob)))
        parts.append(bytes(blob))
    return b"".join(parts)


def unpack_frames(data: bytes) -> tuple[list[tuple[dict[str, Any], list[bytes]]], bytes]:
    """Parse every complete frame at the start of ``data``; return them and the unparsed rest."""
    frames = []
    view = memoryview(data)
    pos = 0
    while True:
        frame, used = _unpack_one(view, pos)
        if frame is None:
            return frames, bytes(view[pos:])
        frames.append(frame)
        pos = used


def frame_length(data: bytes) -> int | None:
    """The length of the complete frame at the start of ``data`` (None while it is incomplete), unparsed."""
    start = _frame_start(data, 0)
    if start is None:
        return None
    cur, nblobs = start
    for _ in range(nblobs):
        if len(data) < cur + 8:
            return None
        (blen,) = struct.unpack_from("<Q", data, cur)
        cur += 8 + blen
    return cur if len(data) >= cur else None


def _frame_start(data: bytes | bytearray, pos: int) -> tuple[int, int] | None:
    """Of the frame at ``pos``: where its blob lengths begin and how many there are (None until both have arrived)."""
    if len(data) - pos < 8:
        return None
    if data[pos : pos + 4] != MAGIC:
        raise ProtocolError("bad frame marker")
    (hlen,) = struct.unpack_from("<I", data, pos + 4)
    if hlen > MAX_HEADER:
        raise ProtocolError("frame header too large")
    at = pos + 8 + hlen
    if len(data) - at < 4:
        return None
    (nblobs,) = struct.unpack_from("<I", data, at)
    if nblobs > MAX_BLOBS:
        raise ProtocolError("too many blobs in a frame")
    return at + 4, nblobs


class FrameEnds:
    """Follows the frames of a stream as it grows, reading each length field once: where its whole frames end.

    For a stream read piece by piece (a submission's results): however it is cut, and whatever
    it holds, following it costs no more than reading it once.
    """

    def __init__(self) -> None:
        self.start = 0  # where the frame being followed begins (the stream's end when every frame is whole)
        self.last = -1  # where the last whole frame begins
        self.frames = 0  # whole frames so far
        self.broken = False  # the stream stopped following the protocol (or has too many frames)
        self._cursor = 0  # in the frame being followed: where its next blob length is
        self._blobs: int | None = None  # and how many blob lengths are still to read (None: its start not read yet)

    def follow(self, data: bytes | bytearray) -> None:
        """Take in ``data``: the stream so far (what was followed before, and more)."""
        end = len(data)
        while not self.broken:
            try:
                if self._blobs is None:
                    start = _frame_start(data, self.start)
                    if start is None:
                        return
                    self._cursor, self._blobs = start
                while self._blobs:
                    if end - self._cursor < 8:
                        return
                    (blen,) = struct.unpack_from("<Q", data, self._cursor)
                    if blen > MAX_ELEMENTS * 8:
                        raise ProtocolError("blob too large")
                    self._cursor += 8 + blen
                    self._blobs -= 1
            except ProtocolError:
                self.broken = True
                return
            if self._cursor > end:
                return
            self.last, self.start, self._blobs = self.start, self._cursor, None
            self.frames += 1
            self.broken = self.frames > MAX_FRAMES

    def ends_with(self, data: bytes | bytearray, frame: bytes) -> bool:
        """Follow ``data``; whether it is whole frames, the last of them ``frame`` (not a blob's tail like it)."""
        self.follow(data)
        return (not self.broken and self.start == len(data) and len(data) - self.last == len(frame)
                and data[self.last :] == frame)


def take_frame(data: bytes) -> tuple[tuple[dict[str, Any], list[bytes]] | None, bytes]:
    """The first complete frame of ``data`` (or None) and the bytes after it."""
    frame, used = _unpack_one(memoryview(data), 0)
    return frame, data[used:]


def unpack_all(data: bytes) -> tuple[list[tuple[dict[str, Any], list[bytes]]], bool]:
    """Parse frames until the data ends or stops following the protocol; say whether it all parsed."""
    frames = []
    view = memoryview(data)
    pos = 0
    while pos < len(view):
        if len(frames) >= MAX_FRAMES:
            return frames, False
        try:
            frame, used = _unpack_one(view, pos)
        except ProtocolError:
            return frames, False
        if frame is None:
            return frames, False
        frames.append(frame)
        pos = used
    return frames, True


def _unpack_one(view: memoryview, pos: int) -> tuple[tuple[dict[str, Any], list[bytes]] | None, int]:
    end = len(view)
    if end - pos < 8:
        return None, pos
    if bytes(view[pos : pos + 4]) != MAGIC:
        raise ProtocolError("bad frame marker")
    (hlen,) = struct.unpack_from("<I", view, pos + 4)
    if hlen > MAX_HEADER:
        raise ProtocolError("frame header too large")
    cur = pos + 8
    if end - cur < hlen + 4:
        return None, pos
    try:
        header = json.loads(bytes(view[cur : cur + hlen]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"unreadable frame header: {exc.__class__.__name__}") from None
    if not isinstance(header, dict):
        raise ProtocolError("frame header is not an object")
    cur += hlen
    (nblobs,) = struct.unpack_from("<I", view, cur)
    if nblobs > MAX_BLOBS:
        raise ProtocolError("too many blobs in a frame")
    cur += 4
    blobs = []
    for _ in range(nblobs):
        if end - cur < 8:
            return None, pos
        (blen,) = struct.unpack_from("<Q", view, cur)
        cur += 8
        if blen > MAX_ELEMENTS * 8:
            raise ProtocolError("blob too large")
        if end - cur < blen:
            return None, pos
        blobs.append(bytes(view[cur : cur + blen]))
        cur += blen
    return (header, blobs), cur


# ---------------------------------------------------------------- values


def encode_value(value: Any, blobs: list[bytes]) -> dict[str, Any]:
    """Encode a trusted input value (array, int, float, str, dict, list) for a frame."""
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        if arr.dtype.kind in "iub":
            arr = arr.astype("<i8")
        else:
            arr = arr.astype("<f8")
        blobs.append(arr.tobytes())
        return {"t": "array", "dtype": arr.dtype.str, "shape": list(arr.shape), "blob": len(blobs) - 1}
    if isinstance(value, (bool, np.bool_)):
        return {"t": "int", "v": int(value)}
    if isinstance(value, (int, np.integer)):
        return {"t": "int", "v": int(value)}
    if isinstance(value, (float, np.floating)):
        return {"t": "float", "v": float(value)}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if isinstance(value, dict):
        return {"t": "dict", "items": [[str(k), encode_value(v, blobs)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"t": "tuple", "items": [encode_value(v, blobs) for v in value]}
    if value is None:
        return {"t": "none"}
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode_value(tag: Any, blobs: list[bytes], depth: int = 0) -> Any:
    """Decode a value from an untrusted frame: plain arrays, numbers, strings, dicts and tuples only."""
    if depth > MAX_DEPTH or not isinstance(tag, dict):
        raise ProtocolError("malformed value")
    kind = tag.get("t")
    if kind == "array":
        return _decode_array(tag, blobs)
    if kind == "int":
        v = tag.get("v")
        if not isinstance(v, int) or isinstance(v, bool):
            raise ProtocolError("malformed int")
        return v
    if kind == "float":
        v = tag.get("v")
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise ProtocolError("malformed float")
        return float(v)
    if kind == "str":
        v = tag.get("v")
        if not isinstance(v, str):
            raise ProtocolError("malformed str")
        return v
    if kind == "none":
        return None
    if kind == "dict":
        items = tag.get("items")
        if not isinstance(items, list) or len(items) > 256:
            raise ProtocolError("malformed dict")
        out = {}
        for item in items:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
                raise ProtocolError("malformed dict item")
            out[item[0][:200]] = decode_value(item[1], blobs, depth + 1)
        return out
    if kind == "tuple":
        items = tag.get("items")
        if not isinstance(items, list) or len(items) > 256:
            raise ProtocolError("malformed tuple")
        return tuple(decode_value(v, blobs, depth + 1) for v in items)
    raise ProtocolError("unknown value kind")


def decode_float_array(tag: dict[str, Any], blobs: list[bytes]) -> np.ndarray:
    """An array from an untrusted frame, as float64."""
    array = _decode_array(tag, blobs)
    return array if array.dtype == np.float64 else array.astype(np.float64)


def _decode_array(tag: dict[str, Any], blobs: list[bytes]) -> np.ndarray:
    dtype = ALLOWED_DTYPES.get(tag.get("dtype"))
    shape = tag.get("shape")
    index = tag.get("blob")
    if dtype is None or not isinstance(shape, list) or len(shape) > 8:
        raise ProtocolError("malformed array")
    if type(index) is not int or not 0 <= index < len(blobs):
        raise ProtocolError("array refers to a missing blob")
    count = 1
    for n in shape:  # Python ints: no wrap-around
        if type(n) is not int or not 0 <= n <= MAX_ELEMENTS:
            raise ProtocolError("malformed array shape")
        count *= n
    blob = blobs[index]
    if count > MAX_ELEMENTS or len(blob) != count * 8:
        raise ProtocolError("array size does not match its shape")
    return np.frombuffer(blob, dtype=dtype).reshape(shape).copy()
