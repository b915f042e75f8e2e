package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/model/tagger"
	"github.com/bingli/bingli/internal/device"
	"github.com/bingli/bingli/weights"
)

func runBench(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "serve" {
		return runBenchServe(ctx, e, args[1:])
	}
	if len(args) == 0 || args[0] != "tagger" {
		return usagef("usage: bingli bench tagger --model BUNDLE --input FILE.jsonl [flags] | bench serve [flags]")
	}
	fs := newFlagSet(e, "bench tagger", "--model BUNDLE --input FILE.jsonl [flags]", `
Measures tagger inference throughput in characters per second and peak memory, per batch
size, and prints a table. "model" times the network and the CRF decoding on encoded
segments (what a PyTorch peer given the same ids computes); "end-to-end" adds normalisation,
sentence splitting, dictionary matching and mapping entities back to the text.
--dump FILE writes the encoded segments and the decoded tag paths as JSON, so a peer
(bench/pytorch/tagger_bench.py) can run the same inputs with the same weights.`)
	modelDir := fs.String("model", "", "model bundle folder")
	input := fs.String("input", "", "JSON lines with a \"text\" field (e.g. from 'bingli data convert')")
	batches := fs.String("batch", "1,32", "comma-separated batch sizes")
	threads := fs.Int("threads", 1, "CPU threads")
	deviceName := fs.String("device", "cpu", device.FlagHelp)
	repeat := fs.Int("repeat", 5, "timed repetitions per batch size (the median is reported)")
	dump := fs.String("dump", "", "write encoded segments and decoded paths to this JSON file")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed runs to this file")
	args, err := parseArgs(fs, args[1:])
	if err != nil {
		return err
	}
	if len(args) > 0 || *modelDir == "" || *input == "" {
		return usagef("--model and --input are required")
	}
	ds, err := corpus.ReadJSONL(*input)
	if err != nil {
		return err
	}
	b, err := weights.LoadBundle(*modelDir)
	if err != nil {
		return err
	}
	be, closeBackend, err := device.Open(*deviceName, *threads, e.stderr)
	if err != nil {
		return usagef("%v", err)
	}
	defer closeBackend()
	m, enc, err := tagger.FromBundle(be, b)
	if err != nil {
		return err
	}
	var segs []tagger.Segment
	chars := 0
	for i, d := range ds.Docs {
		d.Entities = nil
		ed, err := enc.Encode(d, i, false)
		if err != nil {
			return err
		}
		segs = append(segs, ed.Segments...)
		for _, s := range ed.Segments {
			chars += s.Len()
		}
	}
	fmt.Fprintf(e.stdout, "model %s (%s, quantization %s), %d documents, %d segments, %d characters, backend %s\n\n",
		*modelDir, b.Config.Schema, b.Config.Quantization, len(ds.Docs), len(segs), chars, device.Describe(be))
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	fmt.Fprintf(e.stdout, "%-11s %6s %14s %14s %12s\n", "mode", "batch", "chars/s", "ms/1k chars", "peak heap MB")
	for _, field := range strings.Split(*batches, ",") {
		bs, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || bs <= 0 {
			return usagef("--batch %q: want positive integers", *batches)
		}
		groups := tagger.Batches(segs, bs, nil)
		model := func() error {
			for _, idx := range groups {
				bt, err := tagger.MakeBatch(segs, idx)
				if err != nil {
					return err
				}
				if _, err := m.Decode(bt); err != nil {
					return err
				}
			}
			return nil
		}
		endToEnd := func() error {
			_, err := m.Predict(ctx, enc, ds.Docs, bs)
			return err
		}
		for _, mode := range []struct {
			name string
			run  func() error
		}{{"model", model}, {"end-to-end", endToEnd}} {
			secs, peak, err := timeMedian(*repeat, mode.run)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%-11s %6d %14.0f %14.2f %12.1f\n", mode.name, bs, float64(chars)/secs, 1000*secs/float64(chars)*1000, float64(peak)/(1<<20))
		}
	}
	if *dump != "" {
		return dumpSegments(*dump, m, segs)
	}
	return nil
}

// timeMedian runs f repeat times after one warm-up and returns the median seconds and the
// peak heap in use seen after any run.
func timeMedian(repeat int, f func() error) (float64, uint64, error) {
	if err := f(); err != nil {
		return 0, 0, err
	}
	var times []float64
	var peak uint64
	for i := 0; i < max(repeat, 1); i++ {
		runtime.GC()
		debug.FreeOSMemory()
		start := time.Now()
		if err := f(); err != nil {
			return 0, 0, err
		}
		times = append(times, time.Since(start).Seconds())
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapSys-ms.HeapReleased)
	}
	sort.Float64s(times)
	return times[len(times)/2], peak, nil
}

// dumpSegments writes the segments and the model's decoded paths for a peer to compare.
func dumpSegments(path string, m *tagger.Model, segs []tagger.Segment) error {
	type seg struct {
		Chars []int32 `json:"chars"`
		Dict  []int32 `json:"dict,omitempty"`
		Path  []int32 `json:"path"`
	}
	out := make([]seg, len(segs))
	for i := range segs {
		bt, err := tagger.MakeBatch(segs, []int{i})
		if err != nil {
			return err
		}
		dec, err := m.Decode(bt)
		if err != nil {
			return err
		}
		out[i] = seg{Chars: bt.Chars, Dict: bt.Dict, Path: dec.Paths[0]}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
