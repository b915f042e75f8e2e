#!/usr/bin/env python3
"""PyTorch peer of bench/bert: Hugging Face BertModel (SDPA attention) with the same config and
the same weights (the safetensors file bench/bert writes), the same deterministic inputs.

Checks parity against bench/bert's --parity-out file (a padded batch of 2 sequences, lengths
16 and 11), then times forward passes in tokens/second at each shape: fp32, TF32, bf16, and
optionally bf16 under torch.compile.

    python3 bench/pytorch/bert_bench.py --weights bert.safetensors --parity parity.safetensors \
        --shapes 64x128,256x256 [--compile]
"""
import argparse
import statistics

import torch
from safetensors.torch import load_file
from transformers import BertConfig, BertModel


def inputs(B, T, vocab, dev):
    b = torch.arange(B, device=dev)[:, None]
    t = torch.arange(T, device=dev)[None, :]
    return (b * 131 + t * 17 + 7) % vocab


def timed(fn, repeat):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        torch.cuda.synchronize()
        times.append(s.elapsed_time(e) / 1000)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--parity", action="append", default=[], help="bench/bert --parity-out files (repeatable)")
    ap.add_argument("--shapes", default="64x128,256x256")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--compile", action="store_true")
    args = ap.parse_args()
    dev = torch.device("cuda")
    cfg = BertConfig(vocab_size=8000, hidden_size=384, num_hidden_layers=6, num_attention_heads=6,
                     intermediate_size=1536, max_position_embeddings=512, hidden_act="gelu_new",
                     layer_norm_eps=1e-12, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                     attn_implementation="sdpa")
    model = BertModel(cfg, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(load_file(args.weights), strict=False)
    missing = [m for m in missing if "position_ids" not in m]
    if missing or unexpected:
        raise SystemExit(f"weights do not match BertModel: missing {missing}, unexpected {unexpected}")
    model = model.to(dev).eval()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}")
    ids = inputs(2, 16, 8000, dev)
    mask = torch.ones(2, 16, dtype=torch.long, device=dev)
    mask[1, 11:] = 0
    with torch.inference_mode():
        ref = model(input_ids=ids, attention_mask=mask).last_hidden_state
        ref16 = model.to(torch.bfloat16)(input_ids=ids, attention_mask=mask).last_hidden_state.float()
        model = model.float()
    print(f"PyTorch bf16 vs PyTorch fp32 on the parity batch: relative {((ref16 - ref).norm() / ref.norm()).item():.3g}")
    for path in args.parity:
        got = load_file(path)["last_hidden_state"].to(dev)
        diff = (got - ref).abs().max().item()
        rel = ((got - ref).norm() / ref.norm()).item()
        print(f"parity of {path.rsplit('/', 1)[-1]} with PyTorch fp32: max |diff| {diff:.3g}, relative {rel:.3g}")
    # Peak: a large bf16 and fp32 product, for the TFLOP/s column's context.
    a = torch.randn(8192, 8192, device=dev, dtype=torch.bfloat16)
    t = timed(lambda: a @ a, 10)
    print(f"measured bf16 matmul peak {2 * 8192 ** 3 / t / 1e12:.0f} TFLOP/s")
    a32 = a.float()
    t = timed(lambda: a32 @ a32, 5)
    print(f"measured fp32 matmul peak {2 * 8192 ** 3 / t / 1e12:.0f} TFLOP/s")
    torch.backends.cuda.matmul.allow_tf32 = True
    t = timed(lambda: a32 @ a32, 5)
    print(f"measured tf32 matmul peak {2 * 8192 ** 3 / t / 1e12:.0f} TFLOP/s")
    torch.backends.cuda.matmul.allow_tf32 = False
    del a, a32

    D, F, L = 384, 1536, 6
    print(f"{'mode':<14} {'shape':<10} {'tokens/s':>12} {'ms/pass':>9} {'TFLOP/s':>8}")
    modes = [("fp32", torch.float32, False, False), ("tf32", torch.float32, True, False),
             ("bf16", torch.bfloat16, False, False)]
    if args.compile:
        modes.append(("bf16-compile", torch.bfloat16, False, True))
    for name, dtype, tf32, comp in modes:
        torch.backends.cuda.matmul.allow_tf32 = tf32
        m = model.to(dtype)
        fwd = torch.compile(m) if comp else m
        for s in args.shapes.split(","):
            B, T = (int(x) for x in s.split("x"))
            ids = inputs(B, T, 8000, dev)

            def run():
                with torch.inference_mode():
                    fwd(input_ids=ids)
            sec = timed(run, args.repeat)
            flops = B * T * L * (2 * (4 * D * D + 2 * D * F) + 4 * T * D)
            print(f"{name:<14} {s:<10} {B * T / sec:>12.0f} {1000 * sec:>9.3f} {flops / sec / 1e12:>8.1f}")
        model = m.float()


if __name__ == "__main__":
    main()
