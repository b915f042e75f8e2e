#!/usr/bin/env python3
"""Export a bingli lite tagger bundle's emissions network to ONNX (the onnxruntime-web peer).

The model is rebuilt in PyTorch from the bundle's safetensors weights (int8 tensors are
dequantised exactly as bingli does on load: w = q * scale[row], in float32), like
bench/pytorch/tagger_bench.py. Only the network is exported: char ids + dictionary feature
ids + lengths -> emissions [B, T, K]. The CRF (transitions, BIO constraints, Viterbi) runs in
JavaScript on the emissions; its parameters go to BUNDLE.crf.json beside the .onnx.

The bidirectional GRU is exported as two unidirectional GRUs: the backward one runs on each
sequence reversed within its own length (a gather), so padded batches of segments of
different lengths give the same emissions as PyTorch's packed bidirectional GRU. Attention
is not supported (the lite bundles have none).

    python3 bench/onnx/export_onnx.py --bundle weights/ccks2017-lite --out bench/onnx

Checks before writing: the exported graph's emissions (onnxruntime, if installed) equal the
packed PyTorch reference within 1e-4 on random padded batches of several shapes.
"""
import argparse
import hashlib
import json
import os
import struct

import numpy as np
import torch


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        buf = f.read()
    dtypes = {"F32": np.float32, "I8": np.int8, "I64": np.int64, "I32": np.int32, "F64": np.float64}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        arr = np.frombuffer(buf[b:e], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
        out[name] = arr.copy()
    return out


def dequantise(tensors):
    out = {}
    for name, arr in tensors.items():
        if name.endswith(".scale"):
            continue
        if name.endswith(".q"):
            base = name[:-2]
            scale = tensors[base + ".scale"].astype(np.float32)
            out[base] = arr.astype(np.float32) * scale.reshape(-1, *([1] * (arr.ndim - 1)))
        else:
            out[name] = arr.astype(np.float32)
    return {k: torch.from_numpy(v) for k, v in out.items()}


class Emissions(torch.nn.Module):
    """chars, dicts [B, T] int64, lengths [B] int64 -> emissions [B, T, K] float32."""

    def __init__(self, cfg, w):
        super().__init__()
        if cfg["attention"] != "none" or cfg["extra_dim"] != 0:
            raise SystemExit("export_onnx: only lite bundles (no attention, no extra features) are supported")
        H = cfg["hidden"]
        self.char_embedding = torch.nn.Embedding.from_pretrained(w["char_embedding.weight"], freeze=True)
        self.dict_embedding = None
        if cfg["dict_dim"] > 0:
            self.dict_embedding = torch.nn.Embedding.from_pretrained(w["dict_embedding.weight"], freeze=True)
        din = cfg["char_dim"] + cfg["dict_dim"]
        self.fwd = torch.nn.GRU(din, H, batch_first=True)
        self.bwd = torch.nn.GRU(din, H, batch_first=True)
        with torch.no_grad():
            for gru, suf in ((self.fwd, ""), (self.bwd, "_reverse")):
                gru.weight_ih_l0.copy_(w["gru.weight_ih_l0" + suf])
                gru.weight_hh_l0.copy_(w["gru.weight_hh_l0" + suf])
                gru.bias_ih_l0.copy_(w["gru.bias_ih_l0" + suf])
                gru.bias_hh_l0.copy_(w["gru.bias_hh_l0" + suf])
        self.emission = torch.nn.Linear(2 * H, cfg["tags"])
        with torch.no_grad():
            self.emission.weight.copy_(w["emission.weight"])
            self.emission.bias.copy_(w["emission.bias"])

    def forward(self, chars, dicts, lengths):
        x = self.char_embedding(chars)
        if self.dict_embedding is not None:
            x = torch.cat([x, self.dict_embedding(dicts)], dim=-1)
        T = chars.shape[1]
        t = torch.arange(T, dtype=torch.int64).unsqueeze(0)
        L = lengths.unsqueeze(1)
        rev = torch.where(t < L, L - 1 - t, t)  # [B, T]: reverse each sequence within its length
        hf, _ = self.fwd(x)
        xr = torch.gather(x, 1, rev.unsqueeze(2).expand(-1, -1, x.shape[2]))
        hr, _ = self.bwd(xr)
        hb = torch.gather(hr, 1, rev.unsqueeze(2).expand(-1, -1, hr.shape[2]))
        return self.emission(torch.cat([hf, hb], dim=2))


class Reference(torch.nn.Module):
    """The packed bidirectional GRU, as bench/pytorch/tagger_bench.py runs it."""

    def __init__(self, cfg, w):
        super().__init__()
        self.e = Emissions(cfg, w)
        H = cfg["hidden"]
        self.gru = torch.nn.GRU(cfg["char_dim"] + cfg["dict_dim"], H, bidirectional=True, batch_first=True)
        with torch.no_grad():
            for n, p in self.gru.named_parameters():
                p.copy_(w["gru." + n])

    def forward(self, chars, dicts, lengths):
        x = self.e.char_embedding(chars)
        if self.e.dict_embedding is not None:
            x = torch.cat([x, self.e.dict_embedding(dicts)], dim=-1)
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        h, _ = self.gru(packed)
        h, _ = torch.nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=chars.shape[1])
        return self.e.emission(h)


def random_batch(cfg, B, T, g):
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    lengths[0] = T
    chars = torch.randint(1, cfg["vocab"], (B, T), generator=g)
    dicts = torch.randint(0, cfg["dict_features"], (B, T), generator=g)
    for b in range(B):
        chars[b, lengths[b]:] = 0
        dicts[b, lengths[b]:] = 0
    return chars, dicts, lengths


def masked_maxdiff(a, b, lengths):
    d = 0.0
    for i, n in enumerate(lengths.tolist()):
        d = max(d, float(np.abs(a[i, :n] - b[i, :n]).max()))
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", required=True, help="bundle folder (config.json, model.safetensors)")
    ap.add_argument("--out", required=True, help="folder for NAME.onnx and NAME.crf.json")
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args()
    name = os.path.basename(os.path.normpath(args.bundle))
    with open(os.path.join(args.bundle, "config.json"), "rb") as f:
        conf_bytes = f.read()
    conf = json.loads(conf_bytes)
    cfg = conf["hyperparams"]
    w = dequantise(load_safetensors(os.path.join(args.bundle, conf.get("tensor_file", "model.safetensors"))))
    model = Emissions(cfg, w).eval()
    ref = Reference(cfg, w).eval()
    g = torch.Generator().manual_seed(1)
    with torch.inference_mode():
        for B, T in ((1, 7), (5, 40), (16, 256)):
            c, d, l = random_batch(cfg, B, T, g)
            diff = masked_maxdiff(model(c, d, l).numpy(), ref(c, d, l).numpy(), l)
            print(f"{name}: torch gather-reversed vs packed bidirectional GRU, B={B} T={T}: max |diff| {diff:.2e}")
            if diff > 1e-4:
                raise SystemExit("export_onnx: the exportable model does not match the reference")

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, name + ".onnx")
    c, d, l = random_batch(cfg, 3, 20, g)
    kwargs = dict(
        input_names=["chars", "dicts", "lengths"],
        output_names=["emissions"],
        dynamic_axes={"chars": {0: "B", 1: "T"}, "dicts": {0: "B", 1: "T"}, "lengths": {0: "B"}, "emissions": {0: "B", 1: "T"}},
        opset_version=args.opset,
    )
    try:
        torch.onnx.export(model, (c, d, l), path, dynamo=False, **kwargs)
    except TypeError:  # older torch without the dynamo argument
        torch.onnx.export(model, (c, d, l), path, **kwargs)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")

    try:
        import onnx
        onnx.checker.check_model(onnx.load(path))
        print("onnx.checker: ok")
    except ImportError:
        print("onnx not installed: checker skipped")
    try:
        import onnxruntime as ort
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        with torch.inference_mode():
            for B, T in ((1, 9), (4, 60), (32, 256)):
                c, d, l = random_batch(cfg, B, T, g)
                got = sess.run(None, {"chars": c.numpy(), "dicts": d.numpy(), "lengths": l.numpy()})[0]
                diff = masked_maxdiff(got, ref(c, d, l).numpy(), l)
                print(f"{name}: onnxruntime {ort.__version__} vs packed torch, B={B} T={T}: max |diff| {diff:.2e}")
                if diff > 1e-4:
                    raise SystemExit("export_onnx: onnxruntime emissions differ from torch")
    except ImportError:
        print("onnxruntime not installed: runtime check skipped")

    crf = {
        "bundle": name,
        "config_sha256": hashlib.sha256(conf_bytes).hexdigest(),
        "tensor_sha256": conf.get("tensor_sha256"),
        "tags": conf["tags"],
        "transitions": w["crf.transitions"].tolist(),
        "start_transitions": w["crf.start_transitions"].tolist(),
        "end_transitions": w["crf.end_transitions"].tolist(),
        "torch": torch.__version__,
        "opset": args.opset,
    }
    with open(os.path.join(args.out, name + ".crf.json"), "w") as f:
        json.dump(crf, f)
    print(f"wrote {os.path.join(args.out, name + '.crf.json')}")


if __name__ == "__main__":
    main()
