#!/usr/bin/env python3
"""Interop check between bingli's Go safetensors code and the reference library.

Run from the repository root on a machine with PyTorch and safetensors:

    python3 weights/testdata/interop.py

(a) Loads weights/testdata/go_written.safetensors (written by the Go test
    TestGoWrittenFixture) with safetensors.torch and safetensors.numpy, checks
    every value, and checks that safetensors.torch.save of the same tensors
    produces exactly the same bytes.
(b) Writes weights/testdata/torch_written.safetensors with known values; the Go
    test TestTorchWritten reads it (and skips while it is absent).
"""
import math
import os
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
GO_WRITTEN = os.path.join(HERE, "go_written.safetensors")
TORCH_WRITTEN = os.path.join(HERE, "torch_written.safetensors")

# Must match goWritten() in weights/interop_test.go.
EXPECTED = {
    "f32": torch.tensor([[0, 0.5, -1.25], [3, 1024.125, -7.5]], dtype=torch.float32),
    "f16": torch.tensor([0.5, -65504], dtype=torch.float16),
    "bf16": torch.tensor([1, -2.5, 0.15625], dtype=torch.bfloat16),
    "f64": torch.tensor([math.pi], dtype=torch.float64),
    "i8": torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
    "u8": torch.tensor([0, 255], dtype=torch.uint8),
    "i32": torch.tensor([-7, 7], dtype=torch.int32),
    "i64": torch.tensor([[-3], [1 << 40]], dtype=torch.int64),
}
METADATA = {"format": "pt"}


def check_go_written():
    loaded = load_file(GO_WRITTEN)
    assert sorted(loaded) == sorted(EXPECTED), sorted(loaded)
    for name, want in EXPECTED.items():
        got = loaded[name]
        assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
        assert got.shape == want.shape, (name, got.shape, want.shape)
        assert torch.equal(got, want), (name, got, want)
    with safe_open(GO_WRITTEN, framework="pt") as f:
        assert f.metadata() == METADATA, f.metadata()
    # numpy has no bfloat16: check the others through the numpy loader.
    with safe_open(GO_WRITTEN, framework="numpy") as f:
        for name, want in EXPECTED.items():
            if want.dtype == torch.bfloat16:
                continue
            got = f.get_tensor(name)
            assert isinstance(got, np.ndarray)
            assert np.array_equal(got, want.numpy()), (name, got)
    with open(GO_WRITTEN, "rb") as fh:
        go_bytes = fh.read()
    py_bytes = save(EXPECTED, metadata=METADATA)
    if go_bytes != py_bytes:
        n = next((i for i, (a, b) in enumerate(zip(go_bytes, py_bytes)) if a != b), min(len(go_bytes), len(py_bytes)))
        sys.exit(f"go_written.safetensors differs from safetensors.torch.save at byte {n}:\n"
                 f"go: {go_bytes[:n + 40]!r}\npy: {py_bytes[:n + 40]!r}")
    print("ok: go_written.safetensors loads and is byte-identical to safetensors.torch.save")


def write_torch_written():
    # Must match TestTorchWritten in weights/interop_test.go.
    tensors = {
        "w_f32": torch.arange(12, dtype=torch.float32).reshape(3, 4) / 4 - 1,
        "w_f16": torch.tensor([0.5, -2.0, 65504.0], dtype=torch.float16),
        "w_bf16": torch.tensor([1.0, -0.15625, 256.0], dtype=torch.bfloat16),
        "w_f64": torch.tensor([math.pi, 1e-300], dtype=torch.float64),
        "ids_i64": torch.tensor([[1, -2], [3, 1 << 40]], dtype=torch.int64),
        "ids_i32": torch.tensor([-7, 7], dtype=torch.int32),
        "q_i8": torch.tensor([-127, 0, 127], dtype=torch.int8),
        "mask_u8": torch.tensor([0, 1, 255], dtype=torch.uint8),
        "flag_bool": torch.tensor([True, False]),
    }
    save_file(tensors, TORCH_WRITTEN, metadata=METADATA)
    print(f"ok: wrote {TORCH_WRITTEN}; now run: go test ./weights/ -run TestTorchWritten -v")


if __name__ == "__main__":
    check_go_written()
    write_torch_written()
