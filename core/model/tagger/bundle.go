package tagger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/bingli/bingli/core/tensor"
	"github.com/bingli/bingli/core/text"
	"github.com/bingli/bingli/lexicon"
	"github.com/bingli/bingli/weights"
)

// Hyperparams is what a bundle's config.json records under "hyperparams".
type Hyperparams struct {
	Config
	MaxLen int `json:"max_len"` // segment length the encoder splits at
}

// BundleInfo is the provenance a bundle records.
type BundleInfo struct {
	Schema   string
	Training weights.TrainingInfo
	Metrics  map[string]map[string]map[string]float64
	Version  string
	// Quantize stores the matrices as int8 with a float32 scale per row.
	Quantize bool
}

// Bundle packs the model, its vocabulary and its dictionary into a weights bundle.
func (m *Model) Bundle(enc *Encoder, info BundleInfo) (*weights.Bundle, error) {
	hp, err := json.Marshal(Hyperparams{Config: m.Cfg, MaxLen: enc.MaxLen})
	if err != nil {
		return nil, err
	}
	f := &weights.File{}
	for _, p := range m.Parameters() {
		v, err := m.be.ToSlice(p.Value)
		if err != nil {
			return nil, err
		}
		if err := f.Add(weights.FromFloat32(p.Name, p.Value.Shape(), v)); err != nil {
			return nil, err
		}
	}
	quant := weights.QuantNone
	if info.Quantize {
		quant = weights.QuantInt8PerRow
		// Every matrix with more than one row of real width: embeddings, GRU, attention and
		// emission weights. The CRF's small score tables stay float32.
		if f, err = f.QuantizeAll(func(t *weights.Tensor) bool { return !strings.HasPrefix(t.Name, "crf.") }); err != nil {
			return nil, err
		}
	}
	var vocab bytes.Buffer
	if err := enc.Vocab.Save(&vocab); err != nil {
		return nil, err
	}
	b := &weights.Bundle{
		Config: weights.BundleConfig{
			Architecture: Architecture,
			Hyperparams:  hp,
			Schema:       info.Schema,
			Tags:         enc.Tags.Labels,
			Training:     info.Training,
			Metrics:      info.Metrics,
			Quantization: quant,
			Created:      time.Now().UTC().Truncate(time.Second),
			ToolVersion:  info.Version,
		},
		Tensors: f,
		Vocab:   vocab.Bytes(),
	}
	if enc.Dict != nil {
		var lex bytes.Buffer
		if _, err := enc.Dict.WriteTo(&lex); err != nil {
			return nil, err
		}
		b.Lexicon = lex.Bytes()
	}
	return b, nil
}

// FromBundle rebuilds a model and its encoder on be from a loaded bundle. int8 matrices are
// dequantised to float32 on load.
func FromBundle(be tensor.Backend, b *weights.Bundle) (*Model, *Encoder, error) {
	if b.Config.Architecture != Architecture {
		return nil, nil, fmt.Errorf("tagger: bundle architecture %q, want %q", b.Config.Architecture, Architecture)
	}
	var hp Hyperparams
	dec := json.NewDecoder(bytes.NewReader(b.Config.Hyperparams))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&hp); err != nil {
		return nil, nil, fmt.Errorf("tagger: bundle hyperparams: %w", err)
	}
	tags, err := TagSetFromLabels(b.Config.Tags)
	if err != nil {
		return nil, nil, err
	}
	if b.Vocab == nil {
		return nil, nil, fmt.Errorf("tagger: bundle has no vocabulary")
	}
	vocab, err := text.LoadVocab(bytes.NewReader(b.Vocab))
	if err != nil {
		return nil, nil, fmt.Errorf("tagger: bundle vocabulary: %w", err)
	}
	if vocab.Len() != hp.Vocab {
		return nil, nil, fmt.Errorf("tagger: bundle vocabulary has %d entries, the model %d", vocab.Len(), hp.Vocab)
	}
	enc := &Encoder{Vocab: vocab, Tags: tags, MaxLen: hp.MaxLen, Match: hp.MatchFeatures > 0}
	if hp.UsesDictionary() {
		if b.Lexicon == nil {
			return nil, nil, fmt.Errorf("tagger: the model uses dictionary features but the bundle has no lexicon")
		}
		if enc.Dict, err = lexicon.Read(bytes.NewReader(b.Lexicon)); err != nil {
			return nil, nil, fmt.Errorf("tagger: bundle lexicon: %w", err)
		}
	}
	m, err := New(be, hp.Config, tags.Labels, 0)
	if err != nil {
		return nil, nil, err
	}
	vals := map[string][]float32{}
	for _, p := range m.Parameters() {
		// Float32 reads a float tensor or dequantises an int8 pair alike.
		v, err := b.Tensors.Float32(p.Name, p.Value.Shape()...)
		if err != nil {
			return nil, nil, err
		}
		vals[p.Name] = v
	}
	if err := m.loadValues(vals); err != nil {
		return nil, nil, err
	}
	m.SetTraining(false)
	return m, enc, nil
}
