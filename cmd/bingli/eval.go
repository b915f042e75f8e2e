package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/eval"
	"github.com/bingli/bingli/core/pipeline"
	"github.com/bingli/bingli/internal/device"
	"github.com/bingli/bingli/weights"
)

func runEval(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "eval", "[flags]", `
Scores entities strictly (exact start, end and type) with micro and per-type P/R/F1 and an
error breakdown. Two modes:

  bingli eval --protocol NAME --dict   build the dictionary from the term lists and the
                                       protocol's train split only, tag its dev and test
                                       splits, and score them
  bingli eval --protocol NAME --model BUNDLE
                                       score a model bundle trained under that protocol
                                       (a release model, trained on all data, is refused)
  bingli eval --gold FILE --pred FILE  score two bingli JSON-lines files (documents paired by id)

Protocols: `+strings.Join(corpus.Protocols(), ", "))
	protocol := fs.String("protocol", "", "fixed evaluation protocol")
	useDict := fs.Bool("dict", false, "with --protocol: evaluate the dictionary-only tagger")
	modelDir := fs.String("model", "", "with --protocol: evaluate this model bundle (trained under the same protocol)")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "CPU threads for --model")
	deviceName := fs.String("device", "auto", "backend for --model: "+device.FlagHelp)
	split := fs.String("split", "", "with --protocol: dev or test (default: every non-empty one)")
	dataFlag := fs.String("data", "", "shared data folder (default: $BINGLI_DATA or shared/data beside the checkout)")
	predOut := fs.String("pred-out", "", "with --protocol: also write the predictions as JSON lines to this file prefix (+.dev.jsonl/.test.jsonl)")
	gold := fs.String("gold", "", "gold JSON-lines file")
	pred := fs.String("pred", "", "predicted JSON-lines file")
	asJSON := fs.Bool("json", false, "print results as JSON instead of tables")
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return usagef("unexpected arguments %q", args)
	}
	switch {
	case *gold != "" || *pred != "":
		if *gold == "" || *pred == "" {
			return usagef("--gold and --pred go together")
		}
		if *protocol != "" {
			return usagef("--protocol and --gold/--pred are different modes")
		}
		return evalFiles(e, *gold, *pred, *asJSON)
	case *protocol != "":
		switch {
		case *useDict && *modelDir == "":
			return evalProtocolDict(ctx, e, *dataFlag, *protocol, *split, *predOut, *asJSON)
		case *modelDir != "" && !*useDict:
			return evalProtocolModel(ctx, e, *dataFlag, *protocol, *modelDir, *deviceName, *threads, *split, *predOut, *asJSON)
		}
		return usagef("choose one tagger: --dict or --model BUNDLE")
	}
	return usagef("give --protocol NAME --dict, or --gold FILE --pred FILE")
}

func evalFiles(e *env, goldPath, predPath string, asJSON bool) error {
	g, err := corpus.ReadJSONL(goldPath)
	if err != nil {
		return err
	}
	p, err := corpus.ReadJSONL(predPath)
	if err != nil {
		return err
	}
	for _, ds := range []*corpus.Dataset{g, p} {
		if n := len(ds.Report.Problems); n > 0 {
			fmt.Fprintf(e.stderr, "warning: %d problems reading %s:\n", n, ds.Name)
			for _, pr := range ds.Report.Problems {
				fmt.Fprintf(e.stderr, "  %s\n", pr)
			}
		}
	}
	res, err := eval.Score(g.Docs, p.Docs)
	if err != nil {
		return err
	}
	return printResults(e.stdout, asJSON, []*eval.Result{res})
}

func evalProtocolDict(ctx context.Context, e *env, dataFlag, protocol, split, predOut string, asJSON bool) error {
	dataDir, err := resolveDataDir(dataFlag)
	if err != nil {
		return err
	}
	ds, name, err := readProtocolDataset(dataDir, protocol)
	if err != nil {
		return err
	}
	train, dev, test, err := corpus.Split(protocol, ds.Docs)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "%s: %d train, %d dev, %d test documents (%d reader problems; see 'bingli data stats')\n",
		protocol, len(train), len(dev), len(test), len(ds.Report.Problems))
	start := time.Now()
	dict, rep, err := pipeline.BuildDictionary(pipeline.DictionarySource{
		Lists:       os.DirFS(filepath.Join(dataDir, "lexicon")),
		Annotations: []pipeline.AnnotatedSet{{Name: protocol + "/train", Schema: schemaOf[name], Docs: train}},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "dictionary from term lists + %s train split: %d terms (%.1fs)\n", protocol, dict.Stats().Terms, time.Since(start).Seconds())
	printBuildReport(e.stderr, rep)
	tagger, err := pipeline.NewDictTagger(dict, schemaOf[name])
	if err != nil {
		return err
	}
	return scoreParts(ctx, e, tagger, protocol, split, predOut, asJSON, dev, test)
}

func evalProtocolModel(ctx context.Context, e *env, dataFlag, protocol, modelDir, deviceName string, threads int, split, predOut string, asJSON bool) error {
	b, err := weights.LoadBundle(modelDir)
	if err != nil {
		return err
	}
	if b.Config.Training.Protocol != protocol || b.Config.Training.Split != "train" {
		return fmt.Errorf("bundle %s was trained on %q of protocol %q; scoring it under %s would count its training data",
			modelDir, b.Config.Training.Split, b.Config.Training.Protocol, protocol)
	}
	dataDir, err := resolveDataDir(dataFlag)
	if err != nil {
		return err
	}
	ds, name, err := readProtocolDataset(dataDir, protocol)
	if err != nil {
		return err
	}
	if b.Config.Schema != schemaOf[name] {
		return fmt.Errorf("bundle %s tags schema %s, protocol %s needs %s", modelDir, b.Config.Schema, protocol, schemaOf[name])
	}
	_, dev, test, err := corpus.Split(protocol, ds.Docs)
	if err != nil {
		return err
	}
	be, closeBackend, err := device.Open(deviceName, threads, e.stderr)
	if err != nil {
		return usagef("%v", err)
	}
	defer closeBackend()
	mt, err := pipeline.NewModelTagger(be, b)
	if err != nil {
		return err
	}
	return scoreParts(ctx, e, mt, protocol, split, predOut, asJSON, dev, test)
}

// scoreParts tags the dev and test documents (or the one --split names) and prints scores.
func scoreParts(ctx context.Context, e *env, tagger pipeline.Tagger, protocol, split, predOut string, asJSON bool, dev, test []corpus.Document) error {
	parts := []struct {
		name string
		docs []corpus.Document
	}{{"dev", dev}, {"test", test}}
	var results []*eval.Result
	for _, part := range parts {
		if (split != "" && split != part.name) || len(part.docs) == 0 {
			continue
		}
		preds, err := tagDocuments(ctx, tagger, part.docs)
		if err != nil {
			return err
		}
		if predOut != "" {
			if err := writeJSONLFile(predOut+"."+part.name+".jsonl", preds); err != nil {
				return err
			}
		}
		res, err := eval.Score(part.docs, preds)
		if err != nil {
			return err
		}
		res.Protocol, res.Split = protocol, part.name
		results = append(results, res)
	}
	if len(results) == 0 {
		return usagef("--split %q: %s has no such non-empty split", split, protocol)
	}
	return printResults(e.stdout, asJSON, results)
}

// tagDocuments tags each document's text and returns predictions with the same ids and texts.
func tagDocuments(ctx context.Context, t pipeline.Tagger, docs []corpus.Document) ([]corpus.Document, error) {
	out := make([]corpus.Document, len(docs))
	var batched [][]pipeline.Entity
	if bt, ok := t.(pipeline.BatchTagger); ok {
		texts := make([]string, len(docs))
		for i, d := range docs {
			texts[i] = d.Text
		}
		var err error
		if batched, err = bt.TagDocuments(ctx, texts); err != nil {
			return nil, err
		}
	}
	for i, d := range docs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var ents []pipeline.Entity
		var err error
		if batched != nil {
			ents = batched[i]
		} else if ents, err = t.Tag(d.Text); err != nil {
			return nil, fmt.Errorf("document %s: %w", d.ID, err)
		}
		p := corpus.Document{ID: d.ID, Text: d.Text, Entities: make([]corpus.Entity, len(ents))}
		for j, en := range ents {
			p.Entities[j] = corpus.Entity{Start: en.Start, End: en.End, Type: en.Type}
		}
		out[i] = p
	}
	return out, nil
}

func writeJSONLFile(path string, docs []corpus.Document) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := corpus.WriteJSONL(f, docs); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

func printResults(w io.Writer, asJSON bool, results []*eval.Result) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(results)
	}
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := r.WriteTable(w); err != nil {
			return err
		}
	}
	return nil
}
