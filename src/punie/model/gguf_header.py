"""The GGUF header, read without loading tensor data: magic bytes and tensor types.

mlx's loader silently turns some block types (K-quants) into float16, not always
correctly, so the converter looks at the declared types first.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

GGUF_MAGIC = b"GGUF"

# ggml tensor types Punie converts exactly; the others are refused up front.
GGML_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 8: "Q8_0", 30: "BF16"}
_OTHER_TYPES = {
    6: "Q5_0",
    7: "Q5_1",
    9: "Q8_1",
    10: "Q2_K",
    11: "Q3_K",
    12: "Q4_K",
    13: "Q5_K",
    14: "Q6_K",
    15: "Q8_K",
}
_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def is_gguf(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == GGUF_MAGIC
    except OSError:
        return False


def gguf_tensor_types(path: Path) -> dict[str, int]:
    """Tensor name -> ggml type id, read from the GGUF header (v2/v3) without the data."""
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        magic, version, n_tensors, n_kv = struct.unpack_from("<4sIQQ", buf, 0)
        if magic != GGUF_MAGIC or version not in (2, 3):
            raise ValueError(f"unsupported GGUF version {version}")
        pos = 24

        def string(pos: int) -> tuple[str, int]:
            (n,) = struct.unpack_from("<Q", buf, pos)
            return buf[pos + 8 : pos + 8 + n].decode("utf-8", "replace"), pos + 8 + n

        def skip(vtype: int, pos: int) -> int:
            if vtype == 8:
                return string(pos)[1]
            if vtype == 9:
                item, count = struct.unpack_from("<IQ", buf, pos)
                pos += 12
                if item in _SCALAR_SIZES:
                    return pos + count * _SCALAR_SIZES[item]
                for _ in range(count):
                    pos = skip(item, pos)
                return pos
            return pos + _SCALAR_SIZES[vtype]

        for _ in range(n_kv):
            _, pos = string(pos)
            (vtype,) = struct.unpack_from("<I", buf, pos)
            pos = skip(vtype, pos + 4)
        types = {}
        for _ in range(n_tensors):
            name, pos = string(pos)
            (n_dims,) = struct.unpack_from("<I", buf, pos)
            pos += 4 + 8 * n_dims
            (ttype,) = struct.unpack_from("<I", buf, pos)
            types[name] = ttype
            pos += 4 + 8  # type, data offset
    return types


def ggml_type_name(t: int) -> str:
    return _OTHER_TYPES.get(t, f"ggml type {t}")
