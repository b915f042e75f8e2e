package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/deid"
	"github.com/bingli/bingli/core/deid/synth"
	"github.com/bingli/bingli/core/pipeline"
	"github.com/bingli/bingli/internal/datadir"
	"github.com/bingli/bingli/internal/device"
	"github.com/bingli/bingli/lexicon/builtin"
)

// protectSchema is the schema of the default protecting tagger: ccks2017 labels every
// canonical medical type except Department, Equipment and Microbe (lexicon's schema table),
// so diseases, symptoms, body parts, checks, drugs and procedures are protected while a
// department after a hospital name stays part of the HOSPITAL span.
const protectSchema = "ccks2017"

func runDeid(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "bench" {
		return runDeidBench(ctx, e, args[1:])
	}
	fs := newFlagSet(e, "deid", "[flags] [FILE ...] | bench [flags]", `
Finds protected health information (PHI) and prints a de-identified copy.

Input (stdin when no FILE is given): one {"id": ..., "text": "..."} per line.
Output: one {"id", "phi": [{"start","end","category","rule","text"}], "masked"} per input, in
input order; start/end are code-point offsets into the given text, end exclusive.
Categories: NAME AGE DATE PHONE ID MRN ADDRESS HOSPITAL EMAIL URL IP (core/deid documents
every rule). Medical entities found by the --protect tagger are never masked as NAME,
ADDRESS or HOSPITAL.

A bad input line gets an error on stderr naming its line; the rest are still processed and
the exit status is 1.

'bingli deid bench --help' describes the de-identification benchmark.`)
	mode := fs.String("mode", "tag", "masking: tag ([姓名]), surrogate (consistent fake values) or mask (＊)")
	seed := fs.Uint64("seed", 1, "surrogate seed (each document uses seed + its line number)")
	protect := fs.String("protect", "dict", "medical-entity protection: dict (built-in dictionary), model:DIR or none")
	deviceName := fs.String("device", "auto", "backend for --protect model:DIR: "+device.FlagHelp)
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	m, err := deid.ParseMode(*mode)
	if err != nil {
		return usagef("--mode: %v", err)
	}
	prot, err := protector(e, *protect, *deviceName)
	if err != nil {
		return err
	}
	inputs := args
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	bw := bufio.NewWriterSize(e.stdout, 1<<16)
	failed := 0
	for _, name := range inputs {
		n, err := deidInput(ctx, e, bw, name, prot, m, *seed)
		failed += n
		if err != nil {
			bw.Flush()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	if failed > 0 {
		fmt.Fprintf(e.stderr, "bingli deid: %d inputs failed\n", failed)
		return errSomeFailed
	}
	return nil
}

// protector returns the tagger named by --protect (nil for none); a model runs on the
// --device backend.
func protector(e *env, spec, deviceName string) (pipeline.Tagger, error) {
	switch {
	case spec == "none":
		return nil, nil
	case spec == "dict":
		d, err := builtin.Dictionary()
		if err != nil {
			return nil, err
		}
		return pipeline.NewDictTagger(d, protectSchema)
	case strings.HasPrefix(spec, "model:"):
		be, _, err := device.Open(deviceName, runtime.GOMAXPROCS(0), e.stderr)
		if err != nil {
			return nil, usagef("%v", err)
		}
		return pipeline.LoadModelTagger(be, strings.TrimPrefix(spec, "model:"))
	}
	return nil, usagef("--protect %q: want dict, model:DIR or none", spec)
}

// detect runs the protecting tagger (if any) and PHI detection on one text.
func detect(prot pipeline.Tagger, txt string) ([]deid.Span, error) {
	var opts deid.Options
	if prot != nil {
		ents, err := prot.Tag(txt)
		if err != nil {
			return nil, fmt.Errorf("protecting tagger: %w", err)
		}
		for _, en := range ents {
			opts.Protected = append(opts.Protected, deid.Range{Start: en.Start, End: en.End})
		}
	}
	return deid.Detect(txt, opts)
}

type phiOut struct {
	Start    int           `json:"start"`
	End      int           `json:"end"`
	Category deid.Category `json:"category"`
	Rule     string        `json:"rule"`
	Text     string        `json:"text"`
}

// deidInput de-identifies one JSON-lines input ("-" is stdin) and returns how many lines failed.
func deidInput(ctx context.Context, e *env, w io.Writer, name string, prot pipeline.Tagger, mode deid.Mode, seed uint64) (int, error) {
	var r io.Reader = e.stdin
	label := "stdin"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		r, label = f, name
	}
	br := bufio.NewReaderSize(r, 1<<16)
	failed := 0
	var buf bytes.Buffer
	for line := 1; ; line++ {
		if line%1024 == 0 && ctx.Err() != nil {
			return failed, ctx.Err()
		}
		b, tooLong, err := readLine(br)
		if err == io.EOF && len(b) == 0 && !tooLong {
			return failed, nil
		}
		if err != nil && err != io.EOF {
			return failed, fmt.Errorf("%s: %w", label, err)
		}
		if tooLong {
			fmt.Fprintf(e.stderr, "%s:%d: line longer than %d bytes; skipped\n", label, line, maxLineBytes)
			failed++
		} else if len(bytes.TrimSpace(b)) > 0 {
			out, perr := deidLine(b, prot, mode, seed+uint64(line))
			if perr != nil {
				fmt.Fprintf(e.stderr, "%s:%d: %v\n", label, line, perr)
				failed++
			} else {
				buf.Reset()
				enc := json.NewEncoder(&buf)
				enc.SetEscapeHTML(false)
				if err := enc.Encode(out); err != nil {
					return failed, err
				}
				if _, err := w.Write(buf.Bytes()); err != nil {
					return failed, fmt.Errorf("writing output: %w", err)
				}
			}
		}
		if err == io.EOF {
			return failed, nil
		}
	}
}

type deidResult struct {
	ID     json.RawMessage `json:"id"`
	PHI    []phiOut        `json:"phi"`
	Masked string          `json:"masked"`
}

func deidLine(b []byte, prot pipeline.Tagger, mode deid.Mode, seed uint64) (*deidResult, error) {
	id, txt, err := parseTagLine(b)
	if err != nil {
		return nil, err
	}
	spans, err := detect(prot, txt)
	if err != nil {
		return nil, err
	}
	masked, err := deid.Mask(txt, spans, mode, seed)
	if err != nil {
		return nil, err
	}
	out := &deidResult{ID: id, PHI: []phiOut{}, Masked: masked}
	for _, s := range spans {
		out.PHI = append(out.PHI, phiOut{s.Start, s.End, s.Category, s.Rule, s.Text})
	}
	return out, nil
}

func runDeidBench(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "deid bench", "[--data DIR] [--n 500] [--seed 1] [--protect dict|model:DIR|none]", `
The de-identification benchmark. The data has no PHI gold, so surrogate PHI is injected from
templates into real CCKS2017 and Yidu-S4K texts (half from each) at sentence boundaries
(core/deid/synth), detection runs on the result, and the table gives per category: gold
values, recall (every character covered by a detection of the category), masked (covered by
any detection), detections overlapping the injected snippets and their precision, and
detections on the original text (real, unannotated PHI: counted, not judged). Last line: the
false-masking rate, the share of gold medical-entity characters inside any detection.

The built-in dictionary (--protect dict) holds every labeled CCKS2017/Yidu mention, so its
false-masking rate here is optimistic; --protect none gives the unprotected rate.`)
	dataDir := fs.String("data", "", "the shared data folder (default: $BINGLI_DATA or ../shared/data)")
	n := fs.Int("n", 500, "documents to inject")
	seed := fs.Uint64("seed", 1, "injection seed")
	protect := fs.String("protect", "dict", "medical-entity protection: dict, model:DIR or none")
	deviceName := fs.String("device", "auto", "backend for --protect model:DIR: "+device.FlagHelp)
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if *n <= 0 {
		return usagef("--n must be positive")
	}
	dir := *dataDir
	if dir == "" {
		d, err := datadir.Find()
		if err != nil {
			return usagef("%v (give --data DIR)", err)
		}
		dir = d
	}
	prot, err := protector(e, *protect, *deviceName)
	if err != nil {
		return err
	}
	docs, err := benchDocs(dir, *n, *seed)
	if err != nil {
		return err
	}
	start := time.Now()
	pred := make([][]deid.Span, len(docs))
	chars := 0
	for i, d := range docs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if pred[i], err = detect(prot, d.Text); err != nil {
			return fmt.Errorf("%s: %w", d.ID, err)
		}
		chars += len([]rune(d.Text))
	}
	el := time.Since(start)
	rep, err := synth.Evaluate(docs, pred)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "deid bench: %d documents (%d characters), seed %d, protect %s; detection %.2fs (%.0f chars/s)\n",
		len(docs), chars, *seed, *protect, el.Seconds(), float64(chars)/el.Seconds())
	rep.Print(e.stdout)
	return nil
}

// benchDocs reads CCKS2017 and Yidu-S4K from dir and injects PHI into n documents, half
// from each set.
func benchDocs(dir string, n int, seed uint64) ([]synth.Doc, error) {
	var out []synth.Doc
	for i, set := range []struct{ name, path string }{
		{"ccks2017", filepath.Join(dir, "ner", "ccks2017")},
		{"yidu", filepath.Join(dir, "ner", "yidu_s4k")},
	} {
		ds, err := corpus.Read(set.name, set.path)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", set.name, err)
		}
		k := n / 2
		if i == 1 {
			k = n - n/2
		}
		out = append(out, synth.Generate(ds.Docs, k, seed+uint64(i))...)
	}
	if len(out) == 0 {
		return nil, errors.New("no documents to inject into")
	}
	return out, nil
}
