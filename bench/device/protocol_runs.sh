#!/usr/bin/env bash
# Trains the protocol models of docs/BENCHMARKS.md in parallel on a many-core machine
# (the GPU machine's 16-core CPU: the Go binary needs no Go toolchain there).
#
#   bench/device/protocol_runs.sh BINGLI DATA RUNS OUT BUDGET
#
# BINGLI is a bingli binary, DATA a data folder laid out like shared/data, RUNS a folder
# for the runs (a run whose checkpoint exists there is resumed), OUT where runs.tgz (logs,
# histories, bundle configs) is written, BUDGET the --max-time of each run (e.g. 6m30s).
# Runs: {ccks2017-split5, yidu-train-dev} × seeds {1,2,3} × {dictionary, characters only},
# plus the lite accuracy–speed points on yidu-train-dev (seed 1), one thread each. This is
# round 1 of docs/BENCHMARKS.md: its dictionary runs used lists + all training mentions for
# the training features (--dict-source train, the only behaviour then); round2.sh has the
# jackknife runs.
set -u
bingli=$1 data=$2 runs=$3 out=$4 budget=$5
mkdir -p "$runs" "$out"

run() { # name, then train flags
	local name=$1
	shift
	local dir=$runs/$name resume=()
	[ -f "$dir/checkpoint.safetensors.zst" ] && resume=(--resume)
	"$bingli" train --data "$data" --out "$dir" --threads 1 --quiet --max-time "$budget" \
		--epochs 40 --patience 8 "${resume[@]}" "$@" >>"$runs/$name.log" 2>&1 &
}

for p in ccks2017-split5 yidu-train-dev; do
	for s in 1 2 3; do
		run "$p-dict-s$s" --protocol "$p" --seed "$s" --dict-source train
		run "$p-char-s$s" --protocol "$p" --seed "$s" --dict=false
	done
done
# Lite points (browser): smaller widths, no or windowed attention.
run lite-h64-none --dict-source train --protocol yidu-train-dev --seed 1 --char-dim 64 --dict-dim 32 --hidden 64 --attention none
run lite-h64-win16 --dict-source train --protocol yidu-train-dev --seed 1 --char-dim 64 --dict-dim 32 --hidden 64 --attention window --window 16 --heads 2
run lite-h96-none --dict-source train --protocol yidu-train-dev --seed 1 --char-dim 96 --dict-dim 32 --hidden 96 --attention none
run lite-h128-win32 --dict-source train --protocol yidu-train-dev --seed 1 --hidden 128 --attention window --window 32
wait
cd "$runs" && tar czf "$out/runs.tgz" --ignore-failed-read *.log */history.json */config.json 2>/dev/null
echo "runs done: $(ls "$runs"/*.log | wc -l) logs"
grep -h "trained .* epochs" "$runs"/*.log | head -40
