#!/usr/bin/env bash
# dict_class_runs.sh BINGLI DATA DEVDIR OUT VARIANT... — where the dictionary's gain comes
# from: seeds 1–3 of each variant on both protocols, trained to early stopping on the GPU
# (at most 40 epochs, patience 8, all runs in parallel), then each best model tags its
# protocol's dev split (DEVDIR/ccks-dev.jsonl, DEVDIR/yidu-dev.jsonl: `bingli data convert
# … --to jsonl --protocol P --part dev`). OUT gets the logs, the bundles' metrics and the
# predictions, for `go run ./bench/dictcoverage --pred P:LABEL=OUT/pred-….jsonl`, and each
# model's int8 copy's dev/test scores (int8-….json).
# Variants as in dict_gain_runs.sh: chars (--dict=false), jk (default), match (--dict-match);
# match-blank adds --dict-blank $BLANK (default 0.3); match-blankP (match-blank0.5) uses P.
set -u
bingli=$1 data=$2 devdir=$3 out=$4
shift 4
runs=$(mktemp -d)
mkdir -p "$out"
declare -A flags=([chars]="--dict=false" [jk]="" [match]="--dict-match" [match-blank]="--dict-match --dict-blank ${BLANK:-0.3}")
# Every variant is checked before any run starts.
for v in "$@"; do
	if [[ $v == match-blank?* ]]; then
		flags[$v]="--dict-match --dict-blank ${v#match-blank}"
	elif [[ ! -v flags[$v] ]]; then
		echo "dict_class_runs.sh: unknown variant $v (chars, jk, match, match-blank, match-blankP)" >&2
		exit 2
	fi
done
declare -A dev=([ccks2017-split5]=ccks-dev.jsonl [yidu-train-dev]=yidu-dev.jsonl)
for p in ccks2017-split5 yidu-train-dev; do
	for v in "$@"; do
		for s in 1 2 3; do
			# shellcheck disable=SC2086
			"$bingli" train --protocol "$p" --data "$data" --device cuda --seed "$s" --epochs 40 --patience 8 \
				--max-time "${BUDGET:-6m}" ${flags[$v]} --quiet --out "$runs/$p-$v-s$s" > "$out/$p-$v-s$s.log" 2>&1 &
		done
	done
done
wait
for p in ccks2017-split5 yidu-train-dev; do
	for v in "$@"; do
		for s in 1 2 3; do
			r=$runs/$p-$v-s$s
			echo "$p $v-s$s: $(grep -h 'trained .* epochs' "$out/$p-$v-s$s.log")"
			python3 -c "import json,sys; m=json.load(open(sys.argv[1]))['metrics']; print(json.dumps(m))" "$r/config.json" > "$out/$p-$v-s$s.json" 2>/dev/null
			"$bingli" tag --model "$r" --device cuda "$devdir/${dev[$p]}" > "$out/pred-$p-$v-s$s.jsonl" 2> "$out/tag-$p-$v-s$s.err" &
			# The int8 copy, scored on the protocol's dev and test splits.
			{ "$bingli" quantize --model "$r" --out "$r-int8" && "$bingli" eval --protocol "$p" --data "$data" \
				--model "$r-int8" --device cuda --json; } > "$out/int8-$p-$v-s$s.json" 2> "$out/int8-$p-$v-s$s.err" &
		done
	done
done
wait
