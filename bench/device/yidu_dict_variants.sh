#!/usr/bin/env bash
# yidu_dict_variants.sh BINGLI DATA OUT — dictionary-feature variants on yidu-train-dev, seeds
# 1–3 to early stopping on the GPU (all six runs in parallel): the jackknife dictionary with 10
# folds instead of 5, and the term lists alone (no training mentions). Compare with
# yidu_gpu_runs.sh (characters only, jackknife with 5 folds).
set -u
bingli=$1 data=$2 out=$3
runs=$(mktemp -d)
mkdir -p "$out"
common=(--protocol yidu-train-dev --data "$data" --device cuda --epochs 40 --patience 8 --max-time "${BUDGET:-6m}" --quiet)
for s in 1 2 3; do
	"$bingli" train "${common[@]}" --seed "$s" --dict-folds 10 --out "$runs/jk10-s$s" > "$out/jk10-s$s.log" 2>&1 &
	"$bingli" train "${common[@]}" --seed "$s" --dict-source lists --out "$runs/lists-s$s" > "$out/lists-s$s.log" 2>&1 &
done
wait
for f in "$out"/*.log; do echo "$(basename "$f" .log): $(grep -h 'trained .* epochs' "$f")"; done
