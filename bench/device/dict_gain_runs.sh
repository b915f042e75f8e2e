#!/usr/bin/env bash
# dict_gain_runs.sh BINGLI DATA OUT PROTOCOL VARIANT... — issue 3's dictionary-gain runs on
# the GPU: seeds 1–3 of each named variant trained to early stopping (at most 40 epochs,
# patience 8, dev F1), all in parallel on one GPU; then each run's best model quantised to
# int8 and scored again on the CPU. Characters-only baselines with the same seeds and
# settings are in BENCHMARKS (they are deterministic per seed: yidu_gpu_runs.sh).
# Variants (flags of `bingli train`):
#   jk            --dict-source jackknife (the default dictionary block)
#   jk-nodrop     + --dict-dropout=false (input dropout on the characters only)
#   match         + --dict-match (the all-matches block)
#   match-nodrop  + --dict-match --dict-dropout=false
# EXTRA adds flags to every run (e.g. a tiny model for a local check of the script).
# Writes one log per run, the bundles' metrics as JSON, and a summary to OUT.
set -u
bingli=$1 data=$2 out=$3 protocol=$4
shift 4
runs=$(mktemp -d)
mkdir -p "$out"
declare -A flags=(
	[chars]="--dict=false" [jk]="" [jk-nodrop]="--dict-dropout=false"
	[match]="--dict-match" [match-nodrop]="--dict-match --dict-dropout=false"
)
for v in "$@"; do
	for s in 1 2 3; do
		# shellcheck disable=SC2086
		"$bingli" train --protocol "$protocol" --data "$data" --device cuda --seed "$s" --epochs 40 --patience 8 \
			--max-time "${BUDGET:-6m30s}" ${flags[$v]} ${EXTRA:-} --quiet --out "$runs/$v-s$s" > "$out/$v-s$s.log" 2>&1 &
	done
done
wait
split=dev
[ "$protocol" = ccks2017-split5 ] && split=test
for v in "$@"; do
	for s in 1 2 3; do
		r=$runs/$v-s$s
		echo "$v-s$s: $(grep -h 'trained .* epochs' "$out/$v-s$s.log")"
		python3 -c "import json,sys; m=json.load(open(sys.argv[1]))['metrics']; print(json.dumps(m))" "$r/config.json" > "$out/$v-s$s.json" 2>/dev/null
		"$bingli" quantize --model "$r" --out "$r-int8" > /dev/null 2>&1 &&
			"$bingli" eval --protocol "$protocol" --model "$r-int8" --device cpu --data "$data" --split "$split" --json > "$out/$v-s$s-int8.json" 2>&1 &
	done
done
wait
python3 - "$out" "$protocol" "$@" <<'PY'
import json, os, statistics, sys
out, protocol, variants = sys.argv[1], sys.argv[2], sys.argv[3:]
for v in variants:
    row = {"dev": [], "test": [], "int8": []}
    for s in (1, 2, 3):
        try:
            m = json.load(open(os.path.join(out, f"{v}-s{s}.json")))[protocol]
            for part in ("dev", "test"):
                if part in m:
                    row[part].append(100 * m[part]["f1"])
        except Exception as e:
            print(v, s, "no metrics:", e)
        try:
            txt = open(os.path.join(out, f"{v}-s{s}-int8.json")).read()
            j = json.loads(txt[min(i for i in (txt.find("["), txt.find("{")) if i >= 0):])
            j = j[0] if isinstance(j, list) else j
            row["int8"].append(100 * j["micro"]["f1"])
        except Exception as e:
            print(v, s, "no int8 score:", e)
    cells = []
    for k, xs in row.items():
        if xs:
            sd = statistics.stdev(xs) if len(xs) > 1 else 0
            cells.append(f"{k} {statistics.mean(xs):.2f} ± {sd:.2f} ({', '.join(f'{x:.2f}' for x in xs)})")
    print(f"{v}: " + "; ".join(cells))
PY
