package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/model/tagger"
	"github.com/bingli/bingli/core/pipeline"
	"github.com/bingli/bingli/core/text"
	"github.com/bingli/bingli/internal/device"
	"github.com/bingli/bingli/lexicon"
	"github.com/bingli/bingli/weights"
)

func runTrain(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "train", "[flags] --out DIR", `
Trains the BiGRU-attention-CRF tagger and writes a model bundle (config.json, weights,
vocabulary, dictionary) plus history.json and curve.png into --out.

  --protocol NAME     train on the protocol's train split, pick the epoch on its dev split,
                      and record dev and test scores (the dictionary and vocabulary come from
                      the train split and the term lists only)
  --release DATASET   train on every labeled document of ccks2017 or yidu for a shipped
                      model: no dev split, so it runs exactly --epochs epochs (take the
                      epoch count from a protocol run)

Progress (loss per batch, dev F1 per epoch) goes to stderr. A checkpoint is written after
every epoch to --out/checkpoint.safetensors.zst; --resume continues from it.`)
	dataFlag := fs.String("data", "", "shared data folder (default: $BINGLI_DATA or shared/data beside the checkout)")
	protocol := fs.String("protocol", "", "evaluation protocol ("+strings.Join(corpus.Protocols(), ", ")+")")
	release := fs.String("release", "", "train a release model on all labeled data of this dataset (ccks2017 or yidu)")
	out := fs.String("out", "", "output folder (required)")
	resume := fs.Bool("resume", false, "resume from --out/checkpoint.safetensors.zst")
	useDict := fs.Bool("dict", true, "use the dictionary feature block")
	dictSource := fs.String("dict-source", "jackknife", `dictionary behind the features: "lists" (term lists only), "train" (lists + all training mentions: the training features then mark every gold mention, and the model over-trusts them), or "jackknife" (lists + training mentions; each training document's features come from a dictionary without its own fold's mentions, as unseen text would)`)
	dictFolds := fs.Int("dict-folds", 5, "folds for --dict-source jackknife")
	dictMatch := fs.Bool("dict-match", false, "add the all-matches dictionary block: every dictionary occurrence covering a character (nested and overlapping ones too), by origin (annotation or list), type and position, as 0/1 inputs")
	dictDropout := fs.Bool("dict-dropout", true, "apply the input dropout to the dictionary blocks too (false: to the character embedding only)")
	cfgDef := tagger.DefaultConfig(0, 0)
	charDim := fs.Int("char-dim", cfgDef.CharDim, "character embedding width")
	dictDim := fs.Int("dict-dim", cfgDef.DictDim, "dictionary embedding width")
	hidden := fs.Int("hidden", cfgDef.Hidden, "GRU hidden size per direction")
	attention := fs.String("attention", cfgDef.Attention, "self-attention: full, window or none")
	heads := fs.Int("heads", cfgDef.Heads, "attention heads")
	window := fs.Int("window", cfgDef.Window, "block width of windowed attention")
	dropout := fs.Float64("dropout", float64(cfgDef.Dropout), "dropout on the features and before the emissions")
	maxLen := fs.Int("max-len", 256, "maximum segment length (sentence splitter limit)")
	minFreq := fs.Int("min-freq", 2, "characters seen fewer times in training map to [UNK]")
	tc := tagger.DefaultTrainConfig()
	epochs := fs.Int("epochs", tc.Epochs, "maximum epochs")
	batch := fs.Int("batch", tc.BatchSize, "batch size (segments)")
	lr := fs.Float64("lr", float64(tc.LR), "AdamW learning rate")
	wd := fs.Float64("weight-decay", float64(tc.WeightDecay), "AdamW decoupled weight decay")
	clip := fs.Float64("clip", float64(tc.ClipNorm), "global gradient-norm clipping (0: off)")
	patience := fs.Int("patience", tc.Patience, "stop after this many epochs without a better dev F1 (0: never)")
	seed := fs.Uint64("seed", tc.Seed, "random seed (weights, dropout, batch order)")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "CPU threads")
	deviceName := fs.String("device", "auto", device.FlagHelp)
	quantize := fs.Bool("quantize", false, "store the bundle's matrices as int8 (per-row scales)")
	quiet := fs.Bool("quiet", false, "no per-batch progress bar")
	dictBlank := fs.Float64("dict-blank", 0, "probability that a training segment is shown, for an epoch, without its dictionary features (0: off; 0.5 with --dict-match is the best setting measured, see docs/BENCHMARKS.md)")
	maxTime := fs.Duration("max-time", 0, "stop starting new epochs after this much training time (0: no limit); the run then finishes normally")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the training to this file")
	dumpSegments := fs.String("dump-segments", "", "write the encoded training segments (characters, dictionary features, gold tags) as JSON to this file for a peer implementation (bench/pytorch/gpu_tagger_bench.py), then exit")
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return usagef("unexpected arguments %q", args)
	}
	if *out == "" {
		return usagef("--out DIR is required")
	}
	if *dictMatch && !*useDict {
		return usagef("--dict-match needs the dictionary (--dict)")
	}
	if !(*dictBlank >= 0 && *dictBlank < 1) {
		return usagef("--dict-blank %v: want a probability in [0, 1)", *dictBlank)
	}
	if *dictBlank > 0 && !*useDict {
		return usagef("--dict-blank needs the dictionary (--dict)")
	}
	if (*protocol == "") == (*release == "") {
		return usagef("give exactly one of --protocol NAME and --release DATASET")
	}
	dataDir, err := resolveDataDir(*dataFlag)
	if err != nil {
		return err
	}

	// Data: train, dev and test documents and the schema.
	var train, dev, test []corpus.Document
	var dsName string
	info := weights.TrainingInfo{Protocol: *protocol}
	if *protocol != "" {
		ds, name, err := readProtocolDataset(dataDir, *protocol)
		if err != nil {
			return err
		}
		dsName = name
		if train, dev, test, err = corpus.Split(*protocol, ds.Docs); err != nil {
			return err
		}
		info.Split = "train"
	} else {
		rel, ok := datasetPaths[*release]
		if !ok || (*release != "ccks2017" && *release != "yidu") {
			return usagef("--release %q: want ccks2017 or yidu", *release)
		}
		ds, err := corpus.Read(*release, filepath.Join(dataDir, rel))
		if err != nil {
			return err
		}
		dsName, train = *release, ds.Docs
		info.Split = "all"
		info.Notes = "release model: trained on every labeled document; scores come from protocol runs only"
	}
	schema := schemaOf[dsName]
	info.Datasets = []weights.DatasetRef{{Name: dsName, Files: []string{datasetPaths[dsName]}}}
	fmt.Fprintf(e.stderr, "data: %d train, %d dev, %d test documents (%s)\n", len(train), len(dev), len(test), dsName)

	// Dictionary (term lists + training annotations only) and vocabulary (training text only).
	var dict *lexicon.Dictionary
	var foldDicts []*lexicon.Dictionary // jackknife: the dictionary for each fold's own documents
	if *useDict {
		lists := os.DirFS(filepath.Join(dataDir, "lexicon"))
		build := func(name string, docs []corpus.Document) (*lexicon.Dictionary, *pipeline.BuildReport, error) {
			src := pipeline.DictionarySource{Lists: lists}
			if len(docs) > 0 {
				src.Annotations = []pipeline.AnnotatedSet{{Name: name, Schema: schema, Docs: docs}}
			}
			return pipeline.BuildDictionary(src)
		}
		var rep *pipeline.BuildReport
		switch *dictSource {
		case "lists":
			dict, rep, err = build("", nil)
		case "train", "jackknife":
			dict, rep, err = build(dsName+"/"+info.Split, train)
		default:
			return usagef("--dict-source %q: want lists, train or jackknife", *dictSource)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "dictionary (%s): %d terms\n", *dictSource, dict.Stats().Terms)
		printBuildReport(e.stderr, rep)
		if *dictSource == "jackknife" {
			if *dictFolds < 2 {
				return usagef("--dict-folds must be at least 2")
			}
			for f := 0; f < *dictFolds; f++ {
				var others []corpus.Document
				for i, d := range train {
					if i%*dictFolds != f {
						others = append(others, d)
					}
				}
				fd, _, err := build(fmt.Sprintf("%s/%s-fold%d", dsName, info.Split, f), others)
				if err != nil {
					return err
				}
				foldDicts = append(foldDicts, fd)
			}
			fmt.Fprintf(e.stderr, "jackknife: %d fold dictionaries for the training features\n", *dictFolds)
		}
	}
	var texts []string
	for _, d := range train {
		n, err := text.Normalize(d.Text, pipeline.NormalizeOptions())
		if err != nil {
			return fmt.Errorf("document %s: %w", d.ID, err)
		}
		texts = append(texts, n.Text)
	}
	vocab := text.BuildVocab(texts, *minFreq, text.VocabOptions{})
	sm, err := lexicon.Schema(schema)
	if err != nil {
		return err
	}
	tags, err := tagger.NewTagSet(sm.Labels())
	if err != nil {
		return err
	}
	enc := &tagger.Encoder{Vocab: vocab, Dict: dict, Tags: tags, MaxLen: *maxLen, Match: *dictMatch}
	var segs []tagger.Segment
	var nested, lost, unknown, split int
	for i, d := range train {
		fenc := enc
		if foldDicts != nil {
			fe := *enc
			fe.Dict = foldDicts[i%len(foldDicts)]
			fenc = &fe
		}
		ed, err := fenc.Encode(d, i, true)
		if err != nil {
			return err
		}
		segs = append(segs, ed.Segments...)
		nested, lost, unknown, split = nested+ed.Nested, lost+ed.Lost, unknown+ed.Unknown, split+ed.Split
	}
	fmt.Fprintf(e.stderr, "encoded: %d segments (≤ %d chars), vocabulary %d; gold entities: %d nested dropped, %d lost to normalisation, %d of unknown type, %d cut by a segment boundary\n",
		len(segs), *maxLen, vocab.Len(), nested, lost, unknown, split)
	if *dumpSegments != "" {
		return writeSegmentDump(*dumpSegments, vocab.Len(), tags.Labels, segs)
	}

	cfg := tagger.Config{
		Vocab: vocab.Len(), Tags: tags.Len(), CharDim: *charDim, Hidden: *hidden,
		Attention: *attention, Heads: *heads, Window: *window, Dropout: float32(*dropout),
	}
	if *useDict {
		cfg.DictDim, cfg.DictFeatures = *dictDim, len(lexicon.FeatureLabels())
		cfg.DictNoDropout = !*dictDropout
		if *dictMatch {
			cfg.MatchFeatures = lexicon.NumMatchFeatures
		}
	}
	be, closeBackend, err := device.Open(*deviceName, *threads, e.stderr)
	if err != nil {
		return usagef("%v", err)
	}
	defer closeBackend()
	fmt.Fprintf(e.stderr, "backend: %s\n", device.Describe(be))
	m, err := tagger.New(be, cfg, tags.Labels, *seed)
	if err != nil {
		return usagef("%v", err)
	}
	tcfg := tagger.TrainConfig{Epochs: *epochs, BatchSize: *batch, LR: float32(*lr), WeightDecay: float32(*wd),
		ClipNorm: float32(*clip), Patience: *patience, Seed: *seed, DictBlank: *dictBlank}
	if *release != "" {
		tcfg.Patience = 0
	}
	tr, err := tagger.NewTrainer(m, enc, tcfg, segs, dev)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	ckpt := filepath.Join(*out, "checkpoint.safetensors.zst")
	if *resume {
		if err := tr.LoadCheckpoint(ckpt); err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		fmt.Fprintf(e.stderr, "resumed after epoch %d (best dev F1 %.2f at epoch %d)\n", tr.Epochs(), 100*tr.BestF1, tr.BestEpoch)
	}
	bar := newProgress(e.stderr, *quiet)
	tr.OnBatch = func(epoch, done, total int, loss float64) {
		bar.update(fmt.Sprintf("epoch %d/%d", epoch, tcfg.Epochs), done, total, fmt.Sprintf("loss %.3f", loss))
	}
	tr.OnEpoch = func(st tagger.EpochStats) {
		mark := ""
		if st.Best {
			mark = " *"
		}
		bar.done(fmt.Sprintf("epoch %d/%d  loss %.3f  dev P %.2f R %.2f F1 %.2f  %.1fs%s",
			st.Epoch, tcfg.Epochs, st.TrainLoss, 100*st.DevP, 100*st.DevR, 100*st.DevF1, st.Seconds, mark))
		if err := tr.SaveCheckpoint(ckpt); err != nil {
			fmt.Fprintf(e.stderr, "warning: checkpoint: %v\n", err)
		}
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	start := time.Now()
	if *maxTime > 0 {
		tr.StopAfter = start.Add(*maxTime)
	}
	if err := tr.Run(ctx); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "trained %d epochs in %.0fs; best dev F1 %.2f at epoch %d\n", tr.Epochs(), time.Since(start).Seconds(), 100*tr.BestF1, tr.BestEpoch)

	metrics := map[string]map[string]map[string]float64{}
	if *protocol != "" {
		metrics[*protocol] = map[string]map[string]float64{}
		for _, part := range []struct {
			name string
			docs []corpus.Document
		}{{"dev", dev}, {"test", test}} {
			if len(part.docs) == 0 {
				continue
			}
			res, err := tr.Score(ctx, part.docs)
			if err != nil {
				return err
			}
			res.Protocol, res.Split = *protocol, part.name
			if err := res.WriteTable(e.stdout); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout)
			metrics[*protocol][part.name] = map[string]float64{
				"precision": res.Micro.Precision(), "recall": res.Micro.Recall(), "f1": res.Micro.F1(), "best_epoch": float64(tr.BestEpoch),
			}
		}
	}
	if *useDict {
		info.Notes = strings.TrimPrefix(info.Notes+"; dictionary features: "+*dictSource, "; ")
		if *dictSource == "jackknife" {
			info.Notes += fmt.Sprintf(" (%d folds)", *dictFolds)
		}
	}
	b, err := m.Bundle(enc, tagger.BundleInfo{Schema: schema, Training: info, Metrics: metrics, Version: version, Quantize: *quantize})
	if err != nil {
		return err
	}
	b.Config.Notice = weights.DefaultNotice
	if err := weights.SaveBundle(*out, b); err != nil {
		return err
	}
	hist, _ := json.MarshalIndent(struct {
		Config  tagger.Config       `json:"config"`
		Train   tagger.TrainConfig  `json:"train"`
		History []tagger.EpochStats `json:"history"`
	}{cfg, tcfg, tr.History}, "", "  ")
	if err := os.WriteFile(filepath.Join(*out, "history.json"), hist, 0o644); err != nil {
		return err
	}
	if err := plotCurve(filepath.Join(*out, "curve.png"), tr.History); err != nil {
		fmt.Fprintf(e.stderr, "warning: training curve: %v\n", err)
	}
	fmt.Fprintf(e.stderr, "wrote bundle %s\n", *out)
	return nil
}

// progress reports batch progress: a redrawn bar on a terminal, otherwise a plain line at
// most every 30 seconds (so logs stay readable).
type progress struct {
	w     io.Writer
	quiet bool
	tty   bool
	last  time.Time
}

func newProgress(w io.Writer, quiet bool) *progress {
	p := &progress{w: w, quiet: quiet, last: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(label string, done, total int, note string) {
	if p.quiet {
		return
	}
	if !p.tty {
		if time.Since(p.last) >= 30*time.Second {
			p.last = time.Now()
			fmt.Fprintf(p.w, "%s %d/%d batches %s\n", label, done, total, note)
		}
		return
	}
	if time.Since(p.last) < 200*time.Millisecond && done != total {
		return
	}
	p.last = time.Now()
	const width = 30
	n := width * done / max(total, 1)
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d %s ", label, strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total, note)
}

func (p *progress) done(line string) {
	if p.tty && !p.quiet {
		fmt.Fprint(p.w, "\r\033[K")
	}
	p.last = time.Now()
	fmt.Fprintln(p.w, line)
}

// startCPUProfile starts a CPU profile into path ("" does nothing) and returns its stop.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// writeSegmentDump writes encoded training segments for a peer implementation to train on.
func writeSegmentDump(path string, vocab int, labels []string, segs []tagger.Segment) error {
	type seg struct {
		Chars []int32 `json:"chars"`
		Dict  []int32 `json:"dict,omitempty"`
		Tags  []int32 `json:"tags"`
	}
	dump := struct {
		Vocab        int      `json:"vocab"`
		Labels       []string `json:"labels"`
		DictFeatures int      `json:"dict_features"`
		Segments     []seg    `json:"segments"`
	}{Vocab: vocab, Labels: labels, DictFeatures: len(lexicon.FeatureLabels())}
	for _, s := range segs {
		var dict []int32
		for _, f := range s.Dict {
			dict = append(dict, int32(f))
		}
		dump.Segments = append(dump.Segments, seg{Chars: s.Chars, Dict: dict, Tags: s.Tags})
	}
	b, err := json.Marshal(dump)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
