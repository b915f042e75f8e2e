#!/usr/bin/env bash
# cuda_bench.sh OUTDIR — on the GPU machine, in one call: build libbingli_cuda.so, run the
# CUDA conformance and parity tests (+ compute-sanitizer memcheck), then the issue-4
# benchmarks, each next to its PyTorch peer on the same GPU:
#   1. tagger training epoch on yidu-train-dev: CUDA vs the CPU backend vs PyTorch;
#   2. tagger decoding throughput at batch 64 and 256: CUDA vs PyTorch (same weights);
#   3. BERT-shaped encoder forward (bench/bert) vs Hugging Face BertModel (same weights).
# Prepared beforehand on a machine with Go (see docs/BENCHMARKS.md for the exact commands):
#   .devbuild/cuda/{cuda.test,bingli,bert}  (CGO_ENABLED=1 builds)
#   .devbuild/data/{ner/yidu_s4k,lexicon}   (copies of ../shared/data)
#   .devbuild/yidu-dev.jsonl                 (yidu-train-dev dev texts, for decoding)
set -uo pipefail
out=${1:?usage: cuda_bench.sh OUTDIR}
cd "$(dirname "$0")/../.."
mkdir -p "$out"
export PYTHONUNBUFFERED=1
tmp=$(mktemp -d)
bin=.devbuild/cuda
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader | tee "$out/gpu.txt"
./build.sh cuda > "$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }
export BINGLI_CUDA_LIB=$PWD/lib/libbingli_cuda.so BINGLI_REQUIRE_CUDA=1
if [ "${SKIP_TESTS:-0}" != 1 ]; then
	$bin/cuda.test -test.v -test.count 1 > "$out/tests.log" 2>&1
	echo "== tests exit $?: $(grep -c -- '--- FAIL' "$out/tests.log") failures"
	grep -E -- "--- FAIL" "$out/tests.log" | head -20
	compute-sanitizer --tool memcheck --leak-check full $bin/cuda.test -test.run 'Conformance|Parity' -test.count 1 > "$out/memcheck.log" 2>&1
	echo "== memcheck exit $?: $(grep -E 'ERROR SUMMARY|LEAK SUMMARY' "$out/memcheck.log" | tr '\n' ' ')"
fi
data=.devbuild/data
if [ "${SKIP_TAGGER:-0}" != 1 ]; then
common=(--protocol yidu-train-dev --data "$data" --quiet --patience 0 --seed 1)
echo "== training, yidu-train-dev, default model (char 128, dict 50, BiGRU 128, full attention)"
$bin/bingli train "${common[@]}" --device cuda --epochs ${GPU_EPOCHS:-3} --out "$tmp/gpu" > "$out/train-cuda.log" 2>&1
grep -E "backend|^epoch|trained" "$out/train-cuda.log"
echo "-- the CUDA checkpoint resumed on the CPU backend for one more epoch"
$bin/bingli train "${common[@]}" --device cpu --threads 16 --epochs $(( ${GPU_EPOCHS:-3} + 1 )) --resume --out "$tmp/gpu" > "$out/train-resume.log" 2>&1
grep -E "resumed|backend|^epoch|trained" "$out/train-resume.log"
$bin/bingli train "${common[@]}" --device cpu --threads 16 --epochs 1 --max-time 1s --out "$tmp/cpu" > "$out/train-cpu.log" 2>&1
grep -E "backend|^epoch|trained" "$out/train-cpu.log"
$bin/bingli train "${common[@]}" --out "$tmp/dump" --dump-segments "$tmp/segs.json" > /dev/null 2>&1
python3 bench/pytorch/gpu_tagger_bench.py train --segments "$tmp/segs.json" --epochs ${GPU_EPOCHS:-3} 2>&1 | tee "$out/train-torch.log"
echo "== decoding, yidu dev texts, the CUDA-trained bundle"
$bin/bingli bench tagger --device cuda --model "$tmp/gpu" --input .devbuild/yidu-dev.jsonl --batch 64,256 --repeat 5 --dump "$tmp/ids.json" 2>&1 | tee "$out/decode-cuda.log"
python3 bench/pytorch/gpu_tagger_bench.py decode --bundle "$tmp/gpu" --ids "$tmp/ids.json" --batch 64,256 2>&1 | tee "$out/decode-torch.log"
fi
if [ "${SKIP_BERT:-0}" != 1 ]; then
echo "== BERT-shaped encoder forward"
$bin/bert --device cuda --weights "$tmp/bert.safetensors" --parity-out "$tmp/parity.safetensors" --shapes 64x128,256x256 2>&1 | tee "$out/bert-fp32.log"
$bin/bert --device cuda --weights "$tmp/bert.safetensors" --tf32 --shapes 64x128,256x256 2>&1 | tee "$out/bert-tf32.log"
$bin/bert --device cuda --weights "$tmp/bert.safetensors" --bf16 --parity-out "$tmp/parity-bf16.safetensors" --shapes 64x128,256x256 2>&1 | tee "$out/bert-bf16.log"
python3 bench/pytorch/bert_bench.py --weights "$tmp/bert.safetensors" --parity "$tmp/parity.safetensors" --parity "$tmp/parity-bf16.safetensors" --shapes 64x128,256x256 ${BERT_COMPILE:+--compile} 2>&1 | grep -v Warning | tee "$out/bert-torch.log"
fi
if [ "${SKIP_SERVE:-0}" != 1 ]; then
	echo "== bulk job of the Yidu-S4K training texts through the API (yidu-lite), CUDA then CPU"
	for d in ${SERVE_DEVICES:-cuda cpu}; do
		$bin/bingli bench serve --device $d --threads 16 --data "$data" --model weights/yidu-lite --concurrency 16 --duration 5s --warmup 1s --reps 3 2>&1 | tee "$out/serve-$d.log" | tail -12
	done
fi
