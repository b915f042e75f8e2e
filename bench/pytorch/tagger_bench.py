#!/usr/bin/env python3
"""PyTorch peer of bingli's tagger: the same architecture, the same weights (read from the
bundle's safetensors file), the same encoded inputs (written by `bingli bench tagger --dump`).

It checks parity (share of segments whose Viterbi path equals bingli's) and measures CPU
inference throughput in characters per second at the given batch sizes, one thread by
default, the way `bingli bench tagger` does ("model" mode: network + CRF decoding).

    python3 bench/pytorch/tagger_bench.py --bundle DIR --ids ids.json --batch 1,32 --threads 1
"""
import argparse
import json
import math
import resource
import statistics
import time

import struct

import torch

try:
    from safetensors.torch import load_file
except ImportError:  # the format is simple enough to read without the library
    def load_file(path):
        import numpy as np
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
            out[name] = torch.from_numpy(arr.copy())
        return out


class Tagger(torch.nn.Module):
    def __init__(self, cfg, labels):
        super().__init__()
        self.cfg = cfg
        self.char_embedding = torch.nn.Embedding(cfg["vocab"], cfg["char_dim"], padding_idx=0)
        self.dict_embedding = torch.nn.Embedding(cfg["dict_features"], cfg["dict_dim"]) if cfg["dict_dim"] > 0 else None
        din = cfg["char_dim"] + cfg["dict_dim"] + cfg["extra_dim"]
        self.gru = torch.nn.GRU(din, cfg["hidden"], bidirectional=True)
        self.attention = None
        if cfg["attention"] != "none":
            self.attention = torch.nn.MultiheadAttention(2 * cfg["hidden"], cfg["heads"], batch_first=True)
        self.emission = torch.nn.Linear(2 * cfg["hidden"], cfg["tags"])
        k = cfg["tags"]
        self.transitions = torch.nn.Parameter(torch.zeros(k, k))
        self.start_transitions = torch.nn.Parameter(torch.zeros(k))
        self.end_transitions = torch.nn.Parameter(torch.zeros(k))
        # BIO constraints exactly as bingli's nn.BIOConstraints: I-X only after B-X or I-X.
        allowed = torch.ones(k, k, dtype=torch.bool)
        start_ok = torch.ones(k, dtype=torch.bool)
        for j, lj in enumerate(labels):
            if lj.startswith("I-"):
                start_ok[j] = False
                for i, li in enumerate(labels):
                    allowed[i, j] = li in ("B-" + lj[2:], lj)
        self.register_buffer("allowed", allowed)
        self.register_buffer("start_ok", start_ok)

    def load_bingli(self, tensors):
        # int8 bundles store W as NAME.q (int8) and NAME.scale (one float per row):
        # dequantise them the way bingli's loader does, W = scale[:, None] * q.
        for name in [n for n in tensors if n.endswith(".q")]:
            base = name[:-2]
            q, scale = tensors.pop(name), tensors.pop(base + ".scale")
            tensors[base] = q.float() * scale.float().reshape(-1, *([1] * (q.dim() - 1)))
        sd = {}
        for name, t in tensors.items():
            if name.startswith("crf."):
                sd[name[4:]] = t
            elif name.startswith("gru."):
                sd[name] = t
            elif name.startswith("attention."):
                sd[name] = t
            else:
                sd[name] = t
        missing, unexpected = self.load_state_dict(sd, strict=False)
        missing = [m for m in missing if m not in ("allowed", "start_ok")]
        if missing or unexpected:
            raise SystemExit(f"weight names do not match: missing {missing}, unexpected {unexpected}")

    def forward(self, chars, dicts, lengths):
        # chars, dicts: [T, B] time-major; lengths: [B]
        x = self.char_embedding(chars)
        if self.dict_embedding is not None:
            x = torch.cat([x, self.dict_embedding(dicts)], dim=-1)
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        h, _ = self.gru(packed)
        h, _ = torch.nn.utils.rnn.pad_packed_sequence(h, total_length=chars.shape[0])
        if self.attention is not None:
            hb = h.transpose(0, 1)
            T = hb.shape[1]
            mask = torch.arange(T)[None, :] >= lengths[:, None]
            a, _ = self.attention(hb, hb, hb, key_padding_mask=mask, need_weights=False)
            h = h + a.transpose(0, 1)
        return self.emission(h)  # [T, B, K]

    def viterbi(self, em, lengths):
        T, B, K = em.shape
        neg = -1e4
        trans = torch.where(self.allowed, self.transitions, torch.full_like(self.transitions, neg))
        start = torch.where(self.start_ok, self.start_transitions, torch.full_like(self.start_transitions, neg))
        score = start + em[0]
        history = []
        for t in range(1, T):
            s = score.unsqueeze(2) + trans.unsqueeze(0)  # [B, K, K]
            best, idx = s.max(dim=1)
            nxt = best + em[t]
            valid = (t < lengths).unsqueeze(1)
            score = torch.where(valid, nxt, score)
            history.append(idx)
        score = score + self.end_transitions
        paths = []
        for b in range(B):
            n = int(lengths[b])
            tag = int(score[b].argmax())
            path = [tag]
            for t in range(n - 1, 0, -1):
                tag = int(history[t - 1][b, tag])
                path.append(tag)
            paths.append(path[::-1])
        return paths


def batches(segs, size):
    order = sorted(range(len(segs)), key=lambda i: len(segs[i]["chars"]))  # stable, like bingli
    return [order[i:i + size] for i in range(0, len(order), size)]


def make_batch(segs, idx):
    T = max(len(segs[i]["chars"]) for i in idx)
    chars = torch.zeros(T, len(idx), dtype=torch.long)
    dicts = torch.zeros(T, len(idx), dtype=torch.long)
    lengths = torch.tensor([len(segs[i]["chars"]) for i in idx])
    for b, i in enumerate(idx):
        n = len(segs[i]["chars"])
        # the dump holds single-segment batches in time-major order: position t at t*1 + 0
        chars[:n, b] = torch.tensor(segs[i]["chars"][:n])
        if "dict" in segs[i]:
            dicts[:n, b] = torch.tensor(segs[i]["dict"][:n])
    return chars, dicts, lengths


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--batch", default="1,32")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with open(f"{args.bundle}/config.json") as f:
        conf = json.load(f)
    cfg = conf["hyperparams"]
    model = Tagger(cfg, conf["tags"])
    model.load_bingli(load_file(f"{args.bundle}/model.safetensors"))
    model.eval()
    with open(args.ids) as f:
        segs = json.load(f)
    chars_total = sum(len(s["chars"]) for s in segs)

    agree = 0
    with torch.inference_mode():
        for idx in batches(segs, 64):
            c, d, l = make_batch(segs, idx)
            paths = model.viterbi(model(c, d, l), l)
            for i, p in zip(idx, paths):
                agree += p == segs[i]["path"]
    print(f"parity: {agree}/{len(segs)} segments decode to the same path as bingli ({100 * agree / len(segs):.2f}%)")
    print(f"torch {torch.__version__}, {args.threads} threads, {len(segs)} segments, {chars_total} characters")
    print(f"{'batch':>6} {'chars/s':>12} {'peak RSS MB':>12}")
    for bs in [int(x) for x in args.batch.split(",")]:
        groups = [make_batch(segs, idx) for idx in batches(segs, bs)]

        def run():
            with torch.inference_mode():
                for c, d, l in groups:
                    model.viterbi(model(c, d, l), l)
        run()
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{bs:>6} {chars_total / med:>12.0f} {rss:>12.1f}")


if __name__ == "__main__":
    main()
