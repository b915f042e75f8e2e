package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/bingli/bingli/core/corpus"
)

func runData(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, `Usage: bingli data <stats|convert> ...

  stats DATASET PATH     documents, characters, entities (total and per type) and every
                         problem the reader found, with what it did about it
  convert DATASET PATH   write a dataset as JSON lines, BIO/CoNLL or BRAT standoff

DATASET is one of: `+strings.Join(corpus.DatasetNames(), ", "))
		if len(args) == 0 {
			return usagef("missing sub-command")
		}
		return nil
	}
	switch args[0] {
	case "stats":
		return runDataStats(ctx, e, args[1:])
	case "convert":
		return runDataConvert(ctx, e, args[1:])
	default:
		return usagef("unknown sub-command %q (want stats or convert)", args[0])
	}
}

// readDataset reads DATASET PATH positional arguments after flags.
func readDataset(rest []string) (*corpus.Dataset, error) {

	if len(rest) != 2 {
		return nil, usagef("want DATASET PATH, got %d arguments (datasets: %s)", len(rest), strings.Join(corpus.DatasetNames(), ", "))
	}
	ds, err := corpus.Read(rest[0], rest[1])
	if err != nil {
		return nil, err
	}
	return ds, nil
}

func runDataStats(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "data stats", "[flags] DATASET PATH", `
Reads a dataset with its validating reader and prints documents, characters and entities
(total and per type), nesting, and every problem found with the action taken.
DATASET is one of: `+strings.Join(corpus.DatasetNames(), ", "))
	maxProblems := fs.Int("max-problems", -1, "list at most this many problems (-1: all); counts always cover all")
	asJSON := fs.Bool("json", false, "print the summary and problems as one JSON object")
	protocol := fs.String("protocol", "", "also print the per-split counts of this protocol ("+strings.Join(corpus.Protocols(), ", ")+")")
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	ds, err := readDataset(args)
	if err != nil {
		return err
	}
	sum := corpus.Stats(ds.Docs)
	splits := map[string]corpus.Summary{}
	if *protocol != "" {
		train, dev, test, err := corpus.Split(*protocol, ds.Docs)
		if err != nil {
			return err
		}
		splits["train"], splits["dev"], splits["test"] = corpus.Stats(train), corpus.Stats(dev), corpus.Stats(test)
	}
	problems := ds.Report.Problems
	if *maxProblems >= 0 && len(problems) > *maxProblems {
		problems = problems[:*maxProblems]
	}
	if *asJSON {
		out := struct {
			Dataset  string                    `json:"dataset"`
			Summary  corpus.Summary            `json:"summary"`
			Protocol string                    `json:"protocol,omitempty"`
			Splits   map[string]corpus.Summary `json:"splits,omitempty"`
			Counts   map[string]int            `json:"problem_counts"`
			Problems []corpus.Problem          `json:"problems"`
		}{ds.Name, sum, *protocol, splits, ds.Report.Counts, problems}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(out)
	}
	w := bufio.NewWriter(e.stdout)
	defer w.Flush()
	fmt.Fprintf(w, "dataset %s\n%s\n", ds.Name, sum)
	if *protocol != "" {
		fmt.Fprintf(w, "\nprotocol %s\n", *protocol)
		for _, part := range []string{"train", "dev", "test"} {
			s := splits[part]
			fmt.Fprintf(w, "  %-5s %5d documents %8d characters %6d entities\n", part, s.Documents, s.Characters, s.Entities)
		}
	}
	fmt.Fprintf(w, "\nproblems: %d\n", len(ds.Report.Problems))
	kinds := make([]string, 0, len(ds.Report.Counts))
	for k := range ds.Report.Counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "  %-20s %d\n", k, ds.Report.Counts[k])
	}
	for _, p := range problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if len(problems) < len(ds.Report.Problems) {
		fmt.Fprintf(w, "  ... %d more (use --max-problems -1 to list all)\n", len(ds.Report.Problems)-len(problems))
	}
	return nil
}

func runDataConvert(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "data convert", "[flags] DATASET PATH", `
Reads a dataset (validated; problems summarised on stderr) and writes it in another format:
jsonl (one {"id","text","entities"} per line), bio (char + tag, blank line between documents;
nested entities keep the outermost, and the number dropped is reported) or brat (a folder of
.txt/.ann pairs, code-point offsets).
With --protocol and --part, only that part of a fixed split is written.`)
	to := fs.String("to", "jsonl", "output format: jsonl, bio or brat")
	out := fs.String("out", "-", "output file (jsonl, bio) or folder (brat); - is stdout")
	protocol := fs.String("protocol", "", "select a split by protocol ("+strings.Join(corpus.Protocols(), ", ")+")")
	part := fs.String("part", "", "with --protocol: train, dev or test")
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	ds, err := readDataset(args)
	if err != nil {
		return err
	}
	docs := ds.Docs
	if *protocol != "" {
		docs, err = splitPart(*protocol, *part, docs)
		if err != nil {
			return err
		}
	} else if *part != "" {
		return usagef("--part needs --protocol")
	}
	if n := len(ds.Report.Problems); n > 0 {
		fmt.Fprintf(e.stderr, "read %s: %d problems (%s); see 'bingli data stats'\n", ds.Name, n, strings.ReplaceAll(ds.Report.Summary(), "\n", ", "))
	}
	switch *to {
	case "jsonl", "bio":
		w, closeFn, err := openOut(e, *out)
		if err != nil {
			return err
		}
		bw := bufio.NewWriter(w)
		if *to == "jsonl" {
			err = corpus.WriteJSONL(bw, docs)
		} else {
			var dropped int
			dropped, err = corpus.WriteBIO(bw, docs)
			if err == nil && dropped > 0 {
				fmt.Fprintf(e.stderr, "bio: %d nested or overlapping entities dropped (outermost kept)\n", dropped)
			}
		}
		if err == nil {
			err = bw.Flush()
		}
		if cerr := closeFn(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", *out, err)
		}
	case "brat":
		if *out == "-" {
			return usagef("--to brat needs --out FOLDER")
		}
		if err := corpus.WriteBRATDir(*out, docs); err != nil {
			return err
		}
	default:
		return usagef("unknown --to %q (want jsonl, bio or brat)", *to)
	}
	fmt.Fprintf(e.stderr, "wrote %d documents as %s to %s\n", len(docs), *to, *out)
	return nil
}

// splitPart returns one part of a protocol's split.
func splitPart(protocol, part string, docs []corpus.Document) ([]corpus.Document, error) {
	train, dev, test, err := corpus.Split(protocol, docs)
	if err != nil {
		return nil, err
	}
	switch part {
	case "train":
		return train, nil
	case "dev":
		return dev, nil
	case "test":
		return test, nil
	}
	return nil, usagef("--part %q: want train, dev or test", part)
}

// openOut opens path for writing; "-" is stdout (closing it is a no-op).
func openOut(e *env, path string) (io.Writer, func() error, error) {
	if path == "-" || path == "" {
		return e.stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}
