#!/usr/bin/env python3
"""PyTorch GPU peer of bingli's CUDA tagger: training epoch time and decoding throughput.

train:  the same architecture and size as `bingli train` (character embedding, dictionary
        embedding, BiGRU, optional self-attention, emissions, CRF with BIO constraints),
        trained on the same encoded segments (written by `bingli train --dump-segments`),
        batched the same way (length-sorted batches in shuffled order), Adam, gradient
        clipping 5, dropout as given; CRF negative log-likelihood by a batched forward
        algorithm on the GPU. Prints seconds per epoch.

    python3 bench/pytorch/gpu_tagger_bench.py train --segments segs.json --epochs 2

decode: loads a bingli bundle's safetensors weights and the segments written by
        `bingli bench tagger --dump`, decodes on the GPU (network + batched Viterbi with
        backtracking on the GPU), checks parity with bingli's paths and prints characters
        per second at each batch size.

    python3 bench/pytorch/gpu_tagger_bench.py decode --bundle DIR --ids ids.json --batch 64,256
"""
import argparse
import json
import os
import random
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tagger_bench import Tagger, load_file  # noqa: E402

NEG = -1e4


def constrained(model):
    trans = torch.where(model.allowed, model.transitions, torch.full_like(model.transitions, NEG))
    start = torch.where(model.start_ok, model.start_transitions, torch.full_like(model.start_transitions, NEG))
    return trans, start


def crf_nll(model, em, tags, lengths):
    """Mean negative log-likelihood over the batch. em [T, B, K], tags [T, B], lengths [B] (GPU)."""
    T, B, K = em.shape
    trans, start = constrained(model)
    mask = torch.arange(T, device=em.device)[:, None] < lengths[None, :]  # [T, B]
    # Gold path score.
    score = start[tags[0]] + em[0].gather(1, tags[0][:, None]).squeeze(1)
    for t in range(1, T):
        s = trans[tags[t - 1], tags[t]] + em[t].gather(1, tags[t][:, None]).squeeze(1)
        score = score + s * mask[t]
    last = tags.gather(0, (lengths - 1)[None, :]).squeeze(0)
    score = score + model.end_transitions[last]
    # Partition function.
    alpha = start + em[0]
    for t in range(1, T):
        nxt = torch.logsumexp(alpha[:, :, None] + trans[None], dim=1) + em[t]
        alpha = torch.where(mask[t][:, None], nxt, alpha)
    logz = torch.logsumexp(alpha + model.end_transitions, dim=1)
    return (logz - score).mean()


def viterbi_gpu(model, em, lengths):
    """Batched Viterbi with backtracking on the GPU; returns paths [B, T] (padded with 0)."""
    T, B, K = em.shape
    trans, start = constrained(model)
    score = start + em[0]
    hist = torch.zeros(T, B, K, dtype=torch.long, device=em.device)
    for t in range(1, T):
        best, idx = (score[:, :, None] + trans[None]).max(dim=1)
        valid = (t < lengths)[:, None]
        score = torch.where(valid, best + em[t], score)
        # On padded steps, point every tag at itself so backtracking passes through.
        hist[t] = torch.where(valid, idx, torch.arange(K, device=em.device)[None, :].expand(B, K))
    score = score + model.end_transitions
    tag = score.argmax(dim=1)
    paths = torch.zeros(T, B, dtype=torch.long, device=em.device)
    for t in range(T - 1, -1, -1):
        paths[t] = tag
        if t > 0:
            tag = hist[t].gather(1, tag[:, None]).squeeze(1)
    return paths.t()


def length_batches(lengths, size, rng):
    idx = list(range(len(lengths)))
    if rng is not None:
        rng.shuffle(idx)
    idx.sort(key=lambda i: lengths[i])
    out = [idx[i:i + size] for i in range(0, len(idx), size)]
    if rng is not None:
        rng.shuffle(out)
    return out


def to_batch(segs, idx, dev, with_tags=True):
    T = max(len(segs[i]["chars"]) for i in idx)
    B = len(idx)
    chars = torch.zeros(T, B, dtype=torch.long)
    dicts = torch.zeros(T, B, dtype=torch.long)
    tags = torch.zeros(T, B, dtype=torch.long)
    lengths = torch.tensor([len(segs[i]["chars"]) for i in idx])
    for b, i in enumerate(idx):
        s = segs[i]
        n = len(s["chars"])
        chars[:n, b] = torch.tensor(s["chars"])
        if s.get("dict"):
            dicts[:n, b] = torch.tensor(s["dict"][:n])
        if with_tags and "tags" in s:
            tags[:n, b] = torch.tensor(s["tags"])
    return chars.to(dev), dicts.to(dev), tags.to(dev), lengths


def forward(model, chars, dicts, lengths_cpu):
    x = model.char_embedding(chars)
    if model.dict_embedding is not None:
        x = torch.cat([x, model.dict_embedding(dicts)], dim=-1)
    x = torch.nn.functional.dropout(x, model.p, model.training)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths_cpu, enforce_sorted=False)
    h, _ = model.gru(packed)
    h, _ = torch.nn.utils.rnn.pad_packed_sequence(h, total_length=chars.shape[0])
    if model.attention is not None:
        hb = h.transpose(0, 1)
        T = hb.shape[1]
        mask = torch.arange(T, device=hb.device)[None, :] >= lengths_cpu.to(hb.device)[:, None]
        a, _ = model.attention(hb, hb, hb, key_padding_mask=mask, need_weights=False)
        h = h + a.transpose(0, 1)
    h = torch.nn.functional.dropout(h, model.p, model.training)
    return model.emission(h)


def cmd_train(args):
    dev = torch.device("cuda")
    with open(args.segments) as f:
        dump = json.load(f)
    segs = dump["segments"]
    cfg = {"vocab": dump["vocab"], "char_dim": args.char_dim, "dict_dim": args.dict_dim,
           "dict_features": dump["dict_features"], "extra_dim": 0, "hidden": args.hidden,
           "attention": args.attention, "heads": args.heads, "tags": len(dump["labels"])}
    torch.manual_seed(1)
    model = Tagger(cfg, dump["labels"]).to(dev)
    model.p = args.dropout
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lengths = [len(s["chars"]) for s in segs]
    chars_total = sum(lengths)
    rng = random.Random(1)
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, {len(segs)} segments, "
          f"{chars_total} characters, batch {args.batch}, attention {args.attention}")
    times = []
    for epoch in range(args.epochs):
        model.train()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        total = 0.0
        for idx in length_batches(lengths, args.batch, rng):
            c, d, tg, l = to_batch(segs, idx, dev)
            em = forward(model, c, d, l)
            loss = crf_nll(model, em, tg, l.to(dev))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            total += loss.item()
        torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        times.append(dt)
        print(f"epoch {epoch + 1}: {dt:.2f} s, mean loss {total / len(length_batches(lengths, args.batch, None)):.3f}")
    print(f"pytorch train seconds/epoch (median) {statistics.median(times):.2f}")


def cmd_decode(args):
    dev = torch.device("cuda")
    with open(f"{args.bundle}/config.json") as f:
        conf = json.load(f)
    cfg = conf["hyperparams"]
    model = Tagger(cfg, conf["tags"])
    model.load_bingli(load_file(f"{args.bundle}/model.safetensors"))
    model.p = 0.0
    model = model.to(dev).eval()
    with open(args.ids) as f:
        segs = json.load(f)
    lengths = [len(s["chars"]) for s in segs]
    chars_total = sum(lengths)
    agree = 0
    with torch.inference_mode():
        for idx in length_batches(lengths, 64, None):
            c, d, _, l = to_batch(segs, idx, dev, with_tags=False)
            paths = viterbi_gpu(model, forward(model, c, d, l), l.to(dev)).cpu()
            for b, i in enumerate(idx):
                agree += paths[b, :lengths[i]].tolist() == segs[i]["path"]
    print(f"parity: {agree}/{len(segs)} segments decode to bingli's path ({100 * agree / len(segs):.2f}%)")
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, {len(segs)} segments, {chars_total} characters")
    print(f"{'batch':>6} {'chars/s':>12}")
    for bs in [int(x) for x in args.batch.split(",")]:
        groups = [to_batch(segs, idx, dev, with_tags=False) for idx in length_batches(lengths, bs, None)]

        def run():
            with torch.inference_mode():
                for c, d, _, l in groups:
                    viterbi_gpu(model, forward(model, c, d, l), l.to(dev)).cpu()
            torch.cuda.synchronize()
        run()
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
        print(f"{bs:>6} {chars_total / statistics.median(times):>12.0f}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--segments", required=True)
    t.add_argument("--epochs", type=int, default=2)
    t.add_argument("--batch", type=int, default=32)
    t.add_argument("--char-dim", type=int, default=128)
    t.add_argument("--dict-dim", type=int, default=50)
    t.add_argument("--hidden", type=int, default=128)
    t.add_argument("--attention", default="full")
    t.add_argument("--heads", type=int, default=4)
    t.add_argument("--dropout", type=float, default=0.5)
    d = sub.add_parser("decode")
    d.add_argument("--bundle", required=True)
    d.add_argument("--ids", required=True)
    d.add_argument("--batch", default="64,256")
    d.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    {"train": cmd_train, "decode": cmd_decode}[args.cmd](args)


if __name__ == "__main__":
    main()
