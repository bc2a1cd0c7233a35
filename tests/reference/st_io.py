"""Tiny safetensors reader/writer in pure Python (struct + json + numpy + torch).

The format (https://github.com/huggingface/safetensors), as engine/include/sgad/safetensors.h
describes it:

    8 bytes   little-endian unsigned 64-bit N = length of the JSON header
    N bytes   UTF-8 JSON object: name -> {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}
              plus an optional "__metadata__" object of string -> string
    rest      the raw little-endian tensor data; data_offsets are relative to the start of this part

The writer pads the header with spaces to a multiple of 8 bytes (as the upstream library does),
stores tensors contiguously in the order given, and writes atomically (temporary file in the same
folder, fsync, rename). The reader validates every entry: known dtype, offsets in bounds, sizes
that match shape x dtype, no overlap, and no bytes in the data part that no tensor owns.

Only the dtypes the C engine knows are supported: F32, F64, I64, I32, U8.

This module does not depend on the `safetensors` pip package (not installed here).
"""

import json
import os
import struct
import tempfile

import numpy as np
import torch

# safetensors dtype string -> (numpy little-endian dtype, torch dtype)
DTYPES = {
    "F32": (np.dtype("<f4"), torch.float32),
    "F64": (np.dtype("<f8"), torch.float64),
    "I64": (np.dtype("<i8"), torch.int64),
    "I32": (np.dtype("<i4"), torch.int32),
    "U8": (np.dtype("u1"), torch.uint8),
}
_TORCH_TO_ST = {t: name for name, (_, t) in DTYPES.items()}


class SafetensorsError(ValueError):
    """The file is not a valid safetensors file (the message names the file and the problem)."""


def read(path):
    """Read a whole file. Returns (tensors, metadata): an insertion-ordered dict name -> torch.Tensor
    (in the file's data order) and the __metadata__ dict (empty when absent)."""
    with open(path, "rb") as fh:
        blob = fh.read()

    def fail(msg):
        raise SafetensorsError(f"{path}: {msg}")

    if len(blob) < 8:
        fail("shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        fail(f"header length {n} exceeds the file size {len(blob)}")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        fail(f"bad JSON header: {e}")
    if not isinstance(header, dict):
        fail("header is not a JSON object")
    data = memoryview(blob)[8 + n:]

    meta = header.pop("__metadata__", {}) or {}
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        fail("__metadata__ must map strings to strings")

    entries = []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            fail(f"tensor {name!r}: entry must have exactly dtype, shape, data_offsets")
        if info["dtype"] not in DTYPES:
            fail(f"tensor {name!r}: unsupported dtype {info['dtype']!r}")
        shape = info["shape"]
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            fail(f"tensor {name!r}: bad shape {shape!r}")
        offs = info["data_offsets"]
        if (not isinstance(offs, list) or len(offs) != 2 or not all(isinstance(o, int) for o in offs)
                or not 0 <= offs[0] <= offs[1] <= len(data)):
            fail(f"tensor {name!r}: data_offsets {offs!r} out of range (data part is {len(data)} bytes)")
        npdt = DTYPES[info["dtype"]][0]
        want = int(np.prod(shape, dtype=np.int64)) * npdt.itemsize
        if offs[1] - offs[0] != want:
            fail(f"tensor {name!r}: {offs[1] - offs[0]} bytes for shape {shape} x {info['dtype']} ({want} bytes)")
        entries.append((offs[0], offs[1], name, npdt, info["dtype"], shape))

    entries.sort()
    pos = 0
    tensors = {}
    for begin, end, name, npdt, st_dtype, shape in entries:
        if begin != pos:
            fail(f"tensor {name!r}: data at {begin} but the previous tensor ends at {pos} (gap or overlap)")
        pos = end
        arr = np.frombuffer(data[begin:end], dtype=npdt).reshape(shape).copy()
        tensors[name] = torch.from_numpy(arr).to(DTYPES[st_dtype][1])
    if pos != len(data):
        fail(f"{len(data) - pos} trailing bytes after the last tensor")
    return tensors, dict(meta)


def write(path, tensors, metadata=None):
    """Write `tensors` (a mapping name -> torch.Tensor, stored in the given order) and optional
    string metadata atomically. Tensors are made contiguous, moved to the CPU, stored little-endian."""
    header = {}
    chunks = []
    pos = 0
    for name, t in tensors.items():
        if name == "__metadata__":
            raise SafetensorsError(f"{path}: '__metadata__' is reserved")
        t = t.detach().cpu().contiguous()
        if t.dtype not in _TORCH_TO_ST:
            raise SafetensorsError(f"{path}: tensor {name!r}: unsupported dtype {t.dtype}")
        st = _TORCH_TO_ST[t.dtype]
        raw = t.numpy().astype(DTYPES[st][0], copy=False).tobytes()
        header[name] = {"dtype": st, "shape": list(t.shape), "data_offsets": [pos, pos + len(raw)]}
        chunks.append(raw)
        pos += len(raw)
    if metadata:
        header = {"__metadata__": {str(k): str(v) for k, v in metadata.items()}, **header}
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * (-len(hj) % 8)

    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".st-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(struct.pack("<Q", len(hj)))
            fh.write(hj)
            for c in chunks:
                fh.write(c)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
