package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/pipeline"
	"github.com/bingli/bingli/core/text"
	"github.com/bingli/bingli/lexicon"
	"github.com/bingli/bingli/lexicon/builtin"
)

func runLexicon(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, `Usage: bingli lexicon <build|stats|match> ...

  build   build a dictionary from the term lists and training annotations
  stats   print a built dictionary's terms per type and source, size and hash
  match   segment text (lines on stdin) by maximum matching and print the BIO features`)
		if len(args) == 0 {
			return usagef("missing sub-command")
		}
		return nil
	}
	switch args[0] {
	case "build":
		return runLexiconBuild(ctx, e, args[1:])
	case "stats":
		return runLexiconStats(ctx, e, args[1:])
	case "match":
		return runLexiconMatch(ctx, e, args[1:])
	}
	return usagef("unknown sub-command %q (want build, stats or match)", args[0])
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runLexiconBuild(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "lexicon build", "[flags] --out FILE", `
Builds the medical dictionary from the staged term lists (combined_typed_lexicon.tsv.gz in
the lexicon folder; ChineseBLUE only with --chineseblue) and from training annotations.

Annotations come either from a protocol's train split (--protocol NAME: never its dev or
test split) or, for a release dictionary, from every labeled document of the datasets named
with --all DATASET (repeatable). The result is a zstd-compressed binary the CLI, the server
and the browser load.`)
	dataFlag := fs.String("data", "", "shared data folder (default: $BINGLI_DATA or shared/data beside the checkout)")
	lists := fs.String("lists", "", "term-list folder (default: DATA/lexicon; 'none' for no lists)")
	protocol := fs.String("protocol", "", "add the train split of this protocol ("+strings.Join(corpus.Protocols(), ", ")+")")
	var all multiFlag
	fs.Var(&all, "all", "add every labeled document of this dataset (release dictionaries only; repeatable)")
	chineseBLUE := fs.Bool("chineseblue", false, "also load the ChineseBLUE entity list (derives from Yidu training texts: never for yidu-train-dev scores)")
	out := fs.String("out", "", "output file (required)")
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out FILE is required")
	}
	if len(args) > 0 {
		return usagef("unexpected arguments %q", args)
	}
	if *protocol != "" && len(all) > 0 {
		return usagef("--protocol and --all exclude each other: a protocol's dictionary holds its train split only")
	}
	dataDir, err := resolveDataDir(*dataFlag)
	if err != nil && (*lists == "" || *protocol != "" || len(all) > 0) {
		return err
	}
	src := pipeline.DictionarySource{IncludeChineseBLUE: *chineseBLUE}
	switch *lists {
	case "none":
	case "":
		src.Lists = os.DirFS(filepath.Join(dataDir, "lexicon"))
	default:
		src.Lists = os.DirFS(*lists)
	}
	if *protocol != "" {
		set, err := protocolTrainSet(dataDir, *protocol)
		if err != nil {
			return err
		}
		src.Annotations = append(src.Annotations, set)
	}
	for _, name := range all {
		rel, ok := datasetPaths[name]
		schema, ok2 := schemaOf[name]
		if !ok || !ok2 {
			return usagef("--all %q: want one of ccks2017, yidu, ccks2018, cmeee, cmedqaner", name)
		}
		ds, err := corpus.Read(name, filepath.Join(dataDir, rel))
		if err != nil {
			return err
		}
		src.Annotations = append(src.Annotations, pipeline.AnnotatedSet{Name: name + "/all", Schema: schema, Docs: ds.Docs})
	}
	start := time.Now()
	fmt.Fprintln(e.stderr, "building dictionary ...")
	d, rep, err := pipeline.BuildDictionary(src)
	if err != nil {
		return err
	}
	printBuildReport(e.stderr, rep)
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	n, err := d.WriteTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	st := d.Stats()
	fmt.Fprintf(e.stderr, "wrote %s: %d terms, %d bytes, sha256 %s (%.1fs)\n", *out, st.Terms, n, d.Hash(), time.Since(start).Seconds())
	return nil
}

// protocolTrainSet reads a protocol's dataset and returns its train split as annotations.
func protocolTrainSet(dataDir, protocol string) (pipeline.AnnotatedSet, error) {
	ds, name, err := readProtocolDataset(dataDir, protocol)
	if err != nil {
		return pipeline.AnnotatedSet{}, err
	}
	train, _, _, err := corpus.Split(protocol, ds.Docs)
	if err != nil {
		return pipeline.AnnotatedSet{}, err
	}
	return pipeline.AnnotatedSet{Name: protocol + "/train", Schema: schemaOf[name], Docs: train}, nil
}

func printBuildReport(w io.Writer, rep *pipeline.BuildReport) {
	for _, l := range rep.Lists {
		fmt.Fprintf(w, "  list %s: %d rows, %d added, %d outside length limits, %d unmapped types, %d malformed\n",
			l.File, l.Rows, l.Added, l.Dropped, l.Unmapped, l.Malformed)
		for _, err := range l.Errors {
			fmt.Fprintf(w, "    %v\n", err)
		}
	}
	names := make([]string, 0, len(rep.Mentions))
	for n := range rep.Mentions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  annotations %s: %d mentions added, %d skipped (label without a dictionary type, or outside length limits)\n", n, rep.Mentions[n], rep.Skipped[n])
	}
}

// loadDictionary reads a built dictionary file, or the built-in one for "".
func loadDictionary(path string) (*lexicon.Dictionary, error) {
	if path == "" {
		return builtin.Dictionary()
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := lexicon.Read(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

func runLexiconStats(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "lexicon stats", "[FILE]", "Prints a built dictionary's terms per type and per source, trie memory and hash. Without FILE: the built-in dictionary.")
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(args) > 1 {
		return usagef("want at most one FILE")
	}
	var path string
	if len(args) == 1 {
		path = args[0]
	}
	d, err := loadDictionary(path)
	if err != nil {
		return err
	}
	st := d.Stats()
	w := bufio.NewWriter(e.stdout)
	defer w.Flush()
	fmt.Fprintf(w, "terms %d (annotated %d), alphabet %d runes, trie %d bytes (%.1f bytes/term)\nsha256 %s\n\nterms per type (winning type):\n",
		st.Terms, st.Annotated, st.Alphabet, st.TrieBytes, float64(st.TrieBytes)/float64(max(st.Terms, 1)), d.Hash())
	for _, t := range lexicon.CanonicalTypes() {
		if st.ByType[t] > 0 {
			fmt.Fprintf(w, "  %-12s %7d\n", t, st.ByType[t])
		}
	}
	fmt.Fprintln(w, "\nterms per source:")
	srcs := make([]string, 0, len(st.BySource))
	for s := range st.BySource {
		srcs = append(srcs, s)
	}
	sort.Strings(srcs)
	for _, s := range srcs {
		fmt.Fprintf(w, "  %-28s %7d\n", s, st.BySource[s])
	}
	return nil
}

func runLexiconMatch(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "lexicon match", "[flags]", `
Reads lines of text on stdin and prints, for each, the dictionary words found by maximum
matching (normalised text, rune offsets) and the per-character BIO-type features.`)
	dictPath := fs.String("lexicon", "", "dictionary file (default: the built-in dictionary)")
	mode := fs.String("mode", "bidirectional", "forward, backward or bidirectional")
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	var m lexicon.Mode
	switch *mode {
	case "forward":
		m = lexicon.Forward
	case "backward":
		m = lexicon.Backward
	case "bidirectional":
		m = lexicon.Bidirectional
	default:
		return usagef("--mode %q: want forward, backward or bidirectional", *mode)
	}
	d, err := loadDictionary(*dictPath)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(e.stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	w := bufio.NewWriter(e.stdout)
	defer w.Flush()
	line := 0
	for sc.Scan() {
		line++
		n, err := text.Normalize(sc.Text(), pipeline.NormalizeOptions())
		if err != nil {
			fmt.Fprintf(e.stderr, "line %d: %v\n", line, err)
			continue
		}
		for _, mt := range d.Segment(n.Runes, m) {
			fmt.Fprintf(w, "%d\t%d\t%s\t%s\n", mt.Start, mt.End, string(n.Runes[mt.Start:mt.End]), mt.Type)
		}
		feats := d.Features(n.Runes)
		labels := make([]string, len(feats))
		for i, f := range feats {
			labels[i] = f.String()
		}
		fmt.Fprintln(w, strings.Join(labels, " "))
	}
	return sc.Err()
}
