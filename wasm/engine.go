package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing/fstest"
	"unicode/utf8"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/deid"
	"github.com/bingli/bingli/core/model/tagger"
	"github.com/bingli/bingli/core/pipeline"
	"github.com/bingli/bingli/core/tensor/cpu"
	"github.com/bingli/bingli/core/text"
	"github.com/bingli/bingli/weights"
)

// DefaultBatch is the decode batch in the browser: sentences sorted by length, 6 at a time
// (the GEMM micro-kernel's row count, so no padded rows are computed, and little padding in
// time). In Chromium on the dev machine it tagged a 1,000-character record in 95 ms
// against 164 ms with batches of 32 (medians of 12 interleaved runs, docs/BENCHMARKS.md).
const DefaultBatch = 6

// DefaultMaxChars is the longest text (in code points) one call accepts.
const DefaultMaxChars = 200_000

// Errors for bad input; the JavaScript side sees their messages.
var (
	ErrEmpty    = errors.New("the text is empty")
	ErrTooLong  = errors.New("the text is too long")
	ErrBadUTF8  = errors.New("the text is not valid UTF-8")
	ErrNoModel  = errors.New("no model is loaded (call load first)")
	ErrBadModel = errors.New("the model files do not match the pinned hash")
)

// BundleFiles are the files of a model bundle, by name.
var BundleFiles = []string{weights.ConfigFileName, "model.safetensors", "vocab.txt", "lexicon.bin"}

// Engine is one loaded model with the operations the page calls. It is not safe for
// concurrent use; the browser gives every Web Worker its own module and Engine.
type Engine struct {
	Name     string
	Schema   string
	Types    []string
	MaxChars int
	// Batch is how many sentences the model decodes together (sorted by length), 0 for the
	// pipeline's 32. LoadEngine sets DefaultBatch.
	Batch int

	mt    *pipeline.ModelTagger
	model *tagger.Model
	enc   *tagger.Encoder
}

// checkText validates text the way every entry point does.
func checkText(s string, maxChars int) error {
	if s == "" {
		return ErrEmpty
	}
	if !utf8.ValidString(s) {
		off := 0
		for off < len(s) {
			r, size := utf8.DecodeRuneInString(s[off:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			off += size
		}
		return fmt.Errorf("%w (first bad byte at offset %d)", ErrBadUTF8, off)
	}
	if maxChars <= 0 {
		maxChars = DefaultMaxChars
	}
	if n := utf8.RuneCountInString(s); n > maxChars {
		return fmt.Errorf("%w: %d characters, the limit is %d", ErrTooLong, n, maxChars)
	}
	return nil
}

// LoadEngine verifies and loads a bundle from its files. pins maps bundle names to the
// SHA-256 (hex) of their config.json; config.json in turn holds the hashes of the other
// files, which weights.LoadBundleFS checks. A bundle without a pin is refused.
func LoadEngine(name string, files map[string][]byte, pins map[string]string) (*Engine, error) {
	want, ok := pins[name]
	if !ok {
		known := make([]string, 0, len(pins))
		for k := range pins {
			known = append(known, k)
		}
		sort.Strings(known)
		return nil, fmt.Errorf("load %s: no pinned hash for this bundle (this module knows: %s)", name, strings.Join(known, ", "))
	}
	cfg, ok := files[weights.ConfigFileName]
	if !ok {
		return nil, fmt.Errorf("load %s: %s is missing", name, weights.ConfigFileName)
	}
	sum := sha256.Sum256(cfg)
	if got := hex.EncodeToString(sum[:]); got != want {
		return nil, fmt.Errorf("load %s: %w: %s has sha256 %s, want %s", name, ErrBadModel, weights.ConfigFileName, got, want)
	}
	fsys := fstest.MapFS{}
	for _, f := range BundleFiles {
		b, ok := files[f]
		if !ok {
			return nil, fmt.Errorf("load %s: %s is missing", name, f)
		}
		fsys[f] = &fstest.MapFile{Data: b}
	}
	b, err := weights.LoadBundleFS(fsys)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	be := cpu.New(1)
	// The model frees its activations after each decode: keep their buffers for the next call
	// instead of allocating (and later collecting) them again.
	be.Recycle(32 << 20)
	mt, err := pipeline.NewModelTagger(be, b)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	m, enc, err := tagger.FromBundle(be, b)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	// The engine only infers: its weights never change, so the backend may pack the recurrent
	// weights once and keep them (cpu.Backend.Freeze) instead of packing them at every call.
	for _, p := range m.Parameters() {
		if err := be.Freeze(p.Value); err != nil {
			return nil, fmt.Errorf("load %s: %w", name, err)
		}
	}
	// The lite models' GRU input is two embeddings: fold its projection into per-symbol
	// tables (tagger.Model.FoldInputs), about half of a decode's multiply-adds.
	if _, err := m.FoldInputs(); err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	return &Engine{Name: name, Schema: b.Config.Schema, Types: enc.Tags.Types(), MaxChars: DefaultMaxChars, Batch: DefaultBatch, mt: mt, model: m, enc: enc}, nil
}

// Tag returns the entities of s (code-point offsets into s, end exclusive).
func (e *Engine) Tag(s string) ([]pipeline.Entity, error) {
	if e == nil || e.mt == nil {
		return nil, ErrNoModel
	}
	if err := checkText(s, e.MaxChars); err != nil {
		return nil, err
	}
	if e.Batch <= 0 || e.Batch == 32 {
		ents, err := e.mt.Tag(s)
		if err != nil {
			return nil, fmt.Errorf("tag: %w", err)
		}
		if ents == nil {
			ents = []pipeline.Entity{}
		}
		return ents, nil
	}
	preds, err := e.model.Predict(context.Background(), e.enc, []corpus.Document{{ID: "0", Text: s}}, e.Batch)
	if err != nil {
		return nil, fmt.Errorf("tag: %w", err)
	}
	rs := []rune(s)
	ents := make([]pipeline.Entity, len(preds[0]))
	for i, p := range preds[0] {
		ents[i] = pipeline.Entity{Start: p.Start, End: p.End, Type: p.Type, Text: string(rs[p.Start:p.End]), Confidence: p.Confidence}
	}
	return ents, nil
}

// DeidOptions are the options of Deid.
type DeidOptions struct {
	Mode string `json:"mode"` // tag (default), surrogate or mask
	Seed uint64 `json:"seed"`
	// Categories restricts detection and masking to these categories; empty means all.
	Categories []string `json:"categories"`
	// Protected are medical-entity spans [start, end) that names, addresses and hospitals
	// must not overlap. Nil means: tag s with the loaded model and protect its entities
	// (the page passes the entities it already has, to avoid tagging twice).
	Protected [][2]int `json:"protected"`
	// PHI, when set, are the spans Detect returned for this same text (with the same
	// Categories): Deid then skips detection and only protects and masks. The page's pool
	// detects in one Web Worker while another tags, and finishes with these.
	PHI []deid.Span `json:"phi"`
}

// DeidResult is the PHI found in a text and the masked text.
type DeidResult struct {
	PHI    []deid.Span `json:"phi"`
	Masked string      `json:"masked"`
}

// maxChars is the engine's text limit (a nil engine de-identifies with the default one).
func (e *Engine) maxChars() int {
	if e != nil && e.MaxChars > 0 {
		return e.MaxChars
	}
	return DefaultMaxChars
}

// parseCategories checks category names.
func parseCategories(names []string) ([]deid.Category, error) {
	var cats []deid.Category
	for _, c := range names {
		cat := deid.Category(c)
		if _, ok := deid.Tags[cat]; !ok {
			return nil, fmt.Errorf("deid: unknown category %q", c)
		}
		cats = append(cats, cat)
	}
	return cats, nil
}

// Detect finds the PHI candidates of s in the given categories (nil: all) with no entity
// protection; Deid with DeidOptions.PHI set to them finishes the job.
func (e *Engine) Detect(s string, categories []string) ([]deid.Span, error) {
	if err := checkText(s, e.maxChars()); err != nil {
		return nil, err
	}
	cats, err := parseCategories(categories)
	if err != nil {
		return nil, err
	}
	if categories != nil && len(cats) == 0 {
		return []deid.Span{}, nil
	}
	return deid.Detect(s, deid.Options{Categories: cats})
}

// checkPHI validates spans handed back from JavaScript against s: in bounds, in order, not
// overlapping, of a known category and with their text, so a stale or edited list is an
// error rather than a wrong mask.
func checkPHI(s string, phi []deid.Span, cats []deid.Category) ([]deid.Span, error) {
	want := map[deid.Category]bool{}
	for _, c := range cats {
		want[c] = true
	}
	rs := []rune(s)
	out := make([]deid.Span, 0, len(phi))
	for i, sp := range phi {
		if sp.Start < 0 || sp.End > len(rs) || sp.Start >= sp.End {
			return nil, fmt.Errorf("deid: phi span %d [%d, %d) is outside the text of %d characters", i, sp.Start, sp.End, len(rs))
		}
		if i > 0 && sp.Start < phi[i-1].End {
			return nil, fmt.Errorf("deid: phi spans %d and %d overlap or are out of order", i-1, i)
		}
		if _, ok := deid.Tags[sp.Category]; !ok {
			return nil, fmt.Errorf("deid: phi span %d: unknown category %q", i, sp.Category)
		}
		if got := string(rs[sp.Start:sp.End]); got != sp.Text {
			return nil, fmt.Errorf("deid: phi span %d [%d, %d) reads %q in this text, not %q (spans from another text?)", i, sp.Start, sp.End, got, sp.Text)
		}
		if len(want) == 0 || want[sp.Category] {
			out = append(out, sp)
		}
	}
	return out, nil
}

// Deid finds the PHI in s and masks it.
func (e *Engine) Deid(s string, opts DeidOptions) (*DeidResult, error) {
	if err := checkText(s, e.maxChars()); err != nil {
		return nil, err
	}
	mode := deid.ModeTag
	if opts.Mode != "" {
		m, err := deid.ParseMode(opts.Mode)
		if err != nil {
			return nil, err
		}
		mode = m
	}
	cats, err := parseCategories(opts.Categories)
	if err != nil {
		return nil, err
	}
	var detected []deid.Span
	if opts.PHI != nil {
		if detected, err = checkPHI(s, opts.PHI, cats); err != nil {
			return nil, err
		}
	}
	var prot []deid.Range
	if opts.Protected == nil {
		if e == nil || e.mt == nil {
			return nil, ErrNoModel
		}
		ents, err := e.Tag(s)
		if err != nil {
			return nil, err
		}
		for _, en := range ents {
			prot = append(prot, deid.Range{Start: en.Start, End: en.End})
		}
	} else {
		n := utf8.RuneCountInString(s)
		for i, p := range opts.Protected {
			if p[0] < 0 || p[1] > n || p[0] >= p[1] {
				return nil, fmt.Errorf("deid: protected span %d [%d, %d) is outside the text of %d characters", i, p[0], p[1], n)
			}
			prot = append(prot, deid.Range{Start: p[0], End: p[1]})
		}
	}
	if opts.Categories != nil && len(cats) == 0 {
		return &DeidResult{PHI: []deid.Span{}, Masked: s}, nil // every category switched off
	}
	var spans []deid.Span
	if opts.PHI != nil {
		spans = deid.Protect(detected, prot)
	} else if spans, err = deid.Detect(s, deid.Options{Protected: prot, Categories: cats}); err != nil {
		return nil, err
	}
	masked, err := deid.Mask(s, spans, mode, opts.Seed)
	if err != nil {
		return nil, err
	}
	if spans == nil {
		spans = []deid.Span{}
	}
	return &DeidResult{PHI: spans, Masked: masked}, nil
}

// Split cuts s into at most parts chunks [start, end) (code points, covering s) at
// sentence ends (。；！？;!? with their closing quotes, and line breaks), balanced by length.
// The tagger decodes every sentence on its own and no dictionary term spans a sentence
// end, so tagging the chunks separately and shifting their offsets gives the entities of
// tagging s whole; the page spreads the chunks over its Web Workers.
func Split(s string, parts, maxChars int) ([][2]int, error) {
	if err := checkText(s, maxChars); err != nil {
		return nil, err
	}
	n, err := text.Normalize(s, pipeline.NormalizeOptions())
	if err != nil {
		return nil, fmt.Errorf("split: %w", err)
	}
	total := utf8.RuneCountInString(s)
	if parts <= 1 || len(n.Runes) == 0 {
		return [][2]int{{0, total}}, nil
	}
	// Safe cut points: ends of sentence pieces (not of length cuts inside a sentence).
	var cuts []int // normalised offsets
	for _, p := range text.SplitSentences(n.Runes, 0) {
		if p.End < len(n.Runes) {
			cuts = append(cuts, p.End)
		}
	}
	target := (len(n.Runes) + parts - 1) / parts
	var out [][2]int
	start, startNorm := 0, 0
	for _, c := range cuts {
		if len(out) == parts-1 {
			break
		}
		if c-startNorm < target {
			continue
		}
		orig, _ := n.OriginalRunes(c, c+1)
		if orig <= start {
			continue
		}
		out = append(out, [2]int{start, orig})
		start, startNorm = orig, c
	}
	out = append(out, [2]int{start, total})
	return out, nil
}

// Segment is one encoded sentence for an external model (the ONNX peer): its start in the
// normalised text, character ids and dictionary feature ids.
type Segment struct {
	Start int     `json:"start"`
	Chars []int32 `json:"chars"`
	Dict  []uint8 `json:"dict"`
}

// Encode returns the segments the tagger would decode for s.
func (e *Engine) Encode(s string) ([]Segment, error) {
	if e == nil || e.enc == nil {
		return nil, ErrNoModel
	}
	if err := checkText(s, e.MaxChars); err != nil {
		return nil, err
	}
	enc, err := e.enc.Encode(corpus.Document{ID: "0", Text: s}, 0, false)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	out := make([]Segment, len(enc.Segments))
	for i, sg := range enc.Segments {
		d := sg.Dict
		if d == nil {
			d = make([]uint8, len(sg.Chars))
		}
		out[i] = Segment{Start: sg.Start, Chars: sg.Chars, Dict: d}
	}
	return out, nil
}

// Spans maps tag paths decoded elsewhere (one per segment of Encode(s), in order) to
// entities on s. Confidence is 0: an external decoder gives no marginals.
func (e *Engine) Spans(s string, paths [][]int32) ([]pipeline.Entity, error) {
	if e == nil || e.enc == nil {
		return nil, ErrNoModel
	}
	if err := checkText(s, e.MaxChars); err != nil {
		return nil, err
	}
	enc, err := e.enc.Encode(corpus.Document{ID: "0", Text: s}, 0, false)
	if err != nil {
		return nil, fmt.Errorf("spans: %w", err)
	}
	if len(paths) != len(enc.Segments) {
		return nil, fmt.Errorf("spans: %d paths for %d segments", len(paths), len(enc.Segments))
	}
	rs := []rune(s)
	out := []pipeline.Entity{}
	for i, sg := range enc.Segments {
		if len(paths[i]) != sg.Len() {
			return nil, fmt.Errorf("spans: path %d has %d tags for %d characters", i, len(paths[i]), sg.Len())
		}
		for _, sp := range e.enc.Tags.Spans(paths[i]) {
			a, b := enc.Norm.OriginalRunes(sg.Start+sp.Start, sg.Start+sp.End)
			out = append(out, pipeline.Entity{Start: a, End: b, Type: sp.Type, Text: string(rs[a:b])})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out, nil
}

// tagChunks tags s chunk by chunk (as the worker pool does) and shifts the offsets; used by
// tests to check that Split keeps the entities of tagging s whole.
func (e *Engine) tagChunks(s string, parts int) ([]pipeline.Entity, error) {
	chunks, err := Split(s, parts, e.MaxChars)
	if err != nil {
		return nil, err
	}
	rs := []rune(s)
	var out []pipeline.Entity
	for _, c := range chunks {
		ents, err := e.Tag(string(rs[c[0]:c[1]]))
		if err != nil && !errors.Is(err, ErrEmpty) {
			return nil, err
		}
		for _, en := range ents {
			en.Start += c[0]
			en.End += c[0]
			out = append(out, en)
		}
	}
	return out, nil
}
