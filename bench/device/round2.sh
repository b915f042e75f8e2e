#!/usr/bin/env bash
# Second round (see docs/BENCHMARKS.md): the dictionary runs with jackknifed dictionary
# features, two lite points, and the two shipped lite release models, then the int8 copies
# of the protocol dictionary runs are scored.
#
#   bench/device/round2.sh BINGLI DATA RUNS OUT BUDGET
set -u
bingli=$1 data=$2 runs=$3 out=$4 budget=$5
mkdir -p "$runs" "$out"
run() { # name threads, then train flags
	local name=$1 threads=$2
	shift 2
	"$bingli" train --data "$data" --out "$runs/$name" --threads "$threads" --quiet --max-time "$budget" \
		--dict-source jackknife "$@" >"$runs/$name.log" 2>&1 &
}
lite=(--char-dim 64 --dict-dim 32 --hidden 64 --attention none)
for s in 1 2 3; do
	run "ccks2017-split5-jk-s$s" 2 --protocol ccks2017-split5 --seed "$s" --epochs 40 --patience 8
	# 14 epochs: the characters-only yidu runs of round 1 had that many.
	run "yidu-train-dev-jk-s$s" 2 --protocol yidu-train-dev --seed "$s" --epochs 14 --patience 8
done
run lite-h64-none-jk 1 --protocol yidu-train-dev --seed 1 --epochs 40 --patience 8 "${lite[@]}"
run lite-h96-none-jk 1 --protocol yidu-train-dev --seed 1 --epochs 40 --patience 8 --char-dim 96 --dict-dim 32 --hidden 96 --attention none
run release-ccks2017-lite 1 --release ccks2017 --seed 1 --epochs 30 --quantize "${lite[@]}"
run release-yidu-lite 1 --release yidu --seed 1 --epochs 30 --quantize "${lite[@]}"
wait
for p in ccks2017-split5 yidu-train-dev; do
	for s in 1 2 3; do
		(
			"$bingli" quantize --model "$runs/$p-jk-s$s" --out "$runs/$p-jk-s$s-int8" &&
				"$bingli" eval --protocol "$p" --model "$runs/$p-jk-s$s-int8" --data "$data" --json >"$runs/$p-jk-s$s-int8.json"
		) >>"$runs/$p-jk-s$s.log" 2>&1 &
	done
done
wait
cd "$runs" || exit 1
tar czf "$out/runs.tgz" --ignore-failed-read *.log *.json */history.json */config.json 2>/dev/null
for r in release-ccks2017-lite release-yidu-lite; do
	rm -f "$r/checkpoint.safetensors.zst"
	tar czf "$out/$r.tgz" "$r"
done
grep -h "trained .* epochs" *.log
