package pipeline

import (
	"context"
	"fmt"
	"strings"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/model/tagger"
	"github.com/bingli/bingli/core/tensor"
	"github.com/bingli/bingli/weights"
)

// ModelTagger tags with a trained tagger bundle (the BiGRU-attention-CRF model with its own
// vocabulary and dictionary).
type ModelTagger struct {
	model  *tagger.Model
	enc    *tagger.Encoder
	schema string
	batch  int
}

// LoadModelTagger loads the bundle in dir onto be.
func LoadModelTagger(be tensor.Backend, dir string) (*ModelTagger, error) {
	b, err := weights.LoadBundle(dir)
	if err != nil {
		return nil, err
	}
	return NewModelTagger(be, b)
}

// NewModelTagger builds a tagger from a loaded bundle.
func NewModelTagger(be tensor.Backend, b *weights.Bundle) (*ModelTagger, error) {
	m, enc, err := tagger.FromBundle(be, b)
	if err != nil {
		return nil, err
	}
	batch := 32
	if strings.HasPrefix(be.Name(), "cuda") {
		// A GPU is mostly idle at 32 sentences per batch (decoding throughput nearly doubles
		// from 64 to 256 on an H100, docs/BENCHMARKS.md); a CPU gains nothing past 32.
		batch = 256
	}
	return &ModelTagger{model: m, enc: enc, schema: b.Config.Schema, batch: batch}, nil
}

// SetBatchSize sets how many sentences are decoded together (at least 1).
func (t *ModelTagger) SetBatchSize(n int) { t.batch = max(n, 1) }

// Schema implements Tagger.
func (t *ModelTagger) Schema() string { return t.schema }

// Tag implements Tagger.
func (t *ModelTagger) Tag(s string) ([]Entity, error) {
	res, err := t.TagDocuments(context.Background(), []string{s})
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// BatchTagger is a Tagger that tags many texts faster together than one by one.
type BatchTagger interface {
	Tagger
	TagDocuments(ctx context.Context, texts []string) ([][]Entity, error)
}

// TagDocuments tags several texts at once, batching their sentences together (faster than
// one Tag call per text).
func (t *ModelTagger) TagDocuments(ctx context.Context, texts []string) ([][]Entity, error) {
	docs := make([]corpus.Document, len(texts))
	for i, s := range texts {
		docs[i] = corpus.Document{ID: fmt.Sprint(i), Text: s}
	}
	preds, err := t.model.Predict(ctx, t.enc, docs, t.batch)
	if err != nil {
		return nil, err
	}
	out := make([][]Entity, len(texts))
	for i, ps := range preds {
		runes := []rune(texts[i])
		out[i] = make([]Entity, len(ps))
		for j, p := range ps {
			out[i][j] = Entity{Start: p.Start, End: p.End, Type: p.Type, Text: string(runes[p.Start:p.End]), Confidence: p.Confidence}
		}
	}
	return out, nil
}
