#!/usr/bin/env bash
# yidu_gpu_runs.sh BINGLI DATA OUT — the issue-3 accuracy runs on yidu-train-dev trained to
# early stopping on the GPU (--device cuda): seeds 1–3 × {characters only, + dictionary
# (jackknife)}, all six in parallel on one GPU, at most 40 epochs, patience 8 (dev F1); then
# the dictionary models quantised to int8 and scored on dev on the CPU. Writes one log per run
# and a summary table to OUT.
set -u
bingli=$1 data=$2 out=$3
runs=$(mktemp -d)
mkdir -p "$out"
for s in 1 2 3; do
	"$bingli" train --protocol yidu-train-dev --data "$data" --device cuda --seed "$s" --epochs 40 --patience 8 --max-time "${BUDGET:-6m30s}" \
		--quiet --out "$runs/dict-s$s" > "$out/dict-s$s.log" 2>&1 &
	"$bingli" train --protocol yidu-train-dev --data "$data" --device cuda --seed "$s" --epochs 40 --patience 8 --max-time "${BUDGET:-6m30s}" \
		--dict=false --quiet --out "$runs/char-s$s" > "$out/char-s$s.log" 2>&1 &
done
wait
for s in 1 2 3; do
	"$bingli" quantize --model "$runs/dict-s$s" --out "$runs/dict-s$s-int8" > /dev/null &&
		"$bingli" eval --protocol yidu-train-dev --model "$runs/dict-s$s-int8" --device cpu --data "$data" --split dev --json > "$out/dict-s$s-int8.json" 2>&1
done
for f in "$out"/*.log; do echo "$(basename "$f" .log): $(grep -h 'trained .* epochs' "$f")"; done
for s in 1 2 3; do echo "dict-s$s-int8: $(grep -o '"f1":[0-9.]*' "$out/dict-s$s-int8.json" | head -1)"; done
