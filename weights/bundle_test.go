package weights

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func sampleBundle() *Bundle {
	return &Bundle{
		Config: BundleConfig{
			Architecture: "bigru-attn-crf",
			Hyperparams:  json.RawMessage(`{"hidden":128,"layers":1}`),
			Schema:       "ccks2017",
			Tags:         []string{"O", "B-DIS", "I-DIS"},
			Training: TrainingInfo{
				Datasets: []DatasetRef{{Name: "ccks2017", Files: []string{"train.txt"}}},
				Protocol: "ccks2017-official",
				Split:    "train",
			},
			Metrics:     map[string]map[string]map[string]float64{"ccks2017-strict": {"test": {"f1": 0.9}}},
			Created:     time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
			ToolVersion: "bingli test",
		},
		Tensors: sampleFile(),
		Vocab:   []byte("[PAD]\n[UNK]\n病\n"),
		Lexicon: []byte{1, 2, 3},
	}
}

func TestBundleRoundTrip(t *testing.T) {
	for _, tensorFile := range []string{TensorFileName, CompressedTensorFileName} {
		t.Run(tensorFile, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "model")
			b := sampleBundle()
			b.Config.TensorFile = tensorFile
			if err := SaveBundle(dir, b); err != nil {
				t.Fatal(err)
			}
			c := b.Config
			if c.FormatVersion != BundleFormatVersion || c.Quantization != QuantNone || c.Notice != DefaultNotice ||
				c.VocabSHA256 != SHA256Hex(b.Vocab) || !isSHA256Hex(c.TensorSHA256) {
				t.Errorf("config not completed: %+v", c)
			}
			got, err := LoadBundle(dir)
			if err != nil {
				t.Fatal(err)
			}
			// MarshalIndent re-indents the raw hyper-parameters.
			var compact bytes.Buffer
			if err := json.Compact(&compact, got.Config.Hyperparams); err != nil || compact.String() != string(b.Config.Hyperparams) {
				t.Errorf("hyperparams %s, %v", got.Config.Hyperparams, err)
			}
			got.Config.Hyperparams = b.Config.Hyperparams
			if !reflect.DeepEqual(got.Config, b.Config) {
				t.Errorf("config\n%+v\nwant\n%+v", got.Config, b.Config)
			}
			if string(got.Vocab) != string(b.Vocab) || string(got.Lexicon) != string(b.Lexicon) {
				t.Error("vocab or lexicon differs")
			}
			if string(mustWrite(t, got.Tensors)) != string(mustWrite(t, b.Tensors)) {
				t.Error("tensors differ")
			}
		})
	}
}

func TestBundleResaveRemovesStaleFiles(t *testing.T) {
	dir := t.TempDir()
	b := sampleBundle()
	b.Config.TensorFile = CompressedTensorFileName
	if err := SaveBundle(dir, b); err != nil {
		t.Fatal(err)
	}
	q, err := b.Tensors.QuantizeAll(nil)
	if err != nil {
		t.Fatal(err)
	}
	b2 := &Bundle{Config: BundleConfig{Architecture: "x"}, Tensors: q}
	if err := SaveBundle(dir, b2); err != nil {
		t.Fatal(err)
	}
	if b2.Config.Quantization != QuantInt8PerRow {
		t.Errorf("quantization %q", b2.Config.Quantization)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{ConfigFileName, TensorFileName}; !reflect.DeepEqual(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
	got, err := LoadBundle(dir)
	if err != nil || got.Vocab != nil || got.Lexicon != nil {
		t.Errorf("LoadBundle: %v (vocab %v)", err, got)
	}
}

func TestBundleErrors(t *testing.T) {
	// Each case saves a good bundle, breaks it, and expects LoadBundle to
	// fail with a message naming the file.
	tests := []struct {
		name   string
		break_ func(t *testing.T, dir string)
		file   string // file the error must name
		want   string
		is     error
	}{
		{"tensor hash mismatch", func(t *testing.T, dir string) {
			p := filepath.Join(dir, TensorFileName)
			b, _ := os.ReadFile(p)
			b[len(b)-1] ^= 1
			os.WriteFile(p, b, 0o644)
		}, TensorFileName, "records", ErrMismatch},
		{"vocab hash mismatch", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, VocabFileName), []byte("other"), 0o644)
		}, VocabFileName, "records", ErrMismatch},
		{"lexicon without hash", func(t *testing.T, dir string) {
			editConfig(t, dir, func(m map[string]any) { delete(m, "lexicon_sha256") })
		}, LexiconFileName, "records no hash", ErrInvalid},
		{"missing tensor file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, TensorFileName))
		}, TensorFileName, "no such file", os.ErrNotExist},
		{"missing config", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, ConfigFileName))
		}, ConfigFileName, "no such file", os.ErrNotExist},
		{"unknown field", func(t *testing.T, dir string) {
			editConfig(t, dir, func(m map[string]any) { m["tagz"] = []string{"O"} })
		}, ConfigFileName, `unknown field "tagz"`, ErrInvalid},
		{"trailing data", func(t *testing.T, dir string) {
			p := filepath.Join(dir, ConfigFileName)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, append(b, "{}"...), 0o644)
		}, ConfigFileName, "data after the JSON object", ErrInvalid},
		{"not JSON", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, ConfigFileName), []byte("architecture: x"), 0o644)
		}, ConfigFileName, "invalid character", ErrInvalid},
		{"newer format", func(t *testing.T, dir string) {
			editConfig(t, dir, func(m map[string]any) { m["format_version"] = 2 })
		}, ConfigFileName, "format_version 2 is not supported", ErrInvalid},
		{"bad quantization", func(t *testing.T, dir string) {
			editConfig(t, dir, func(m map[string]any) { m["quantization"] = "int4" })
		}, ConfigFileName, `quantization "int4"`, ErrInvalid},
		{"path in tensor_file", func(t *testing.T, dir string) {
			editConfig(t, dir, func(m map[string]any) { m["tensor_file"] = "../model.safetensors" })
		}, ConfigFileName, `tensor_file "../model.safetensors"`, ErrInvalid},
		{"bad hash", func(t *testing.T, dir string) {
			editConfig(t, dir, func(m map[string]any) { m["tensor_sha256"] = "ABC" })
		}, ConfigFileName, `tensor_sha256 "ABC" is not 64 lowercase hex digits`, ErrInvalid},
		{"duplicate tag", func(t *testing.T, dir string) {
			editConfig(t, dir, func(m map[string]any) { m["tags"] = []string{"O", "O"} })
		}, ConfigFileName, `tags[1] "O" is empty or repeated`, ErrInvalid},
		{"no architecture", func(t *testing.T, dir string) {
			editConfig(t, dir, func(m map[string]any) { delete(m, "architecture") })
		}, ConfigFileName, "architecture is empty", ErrInvalid},
		{"corrupt tensors with matching hash", func(t *testing.T, dir string) {
			p := filepath.Join(dir, TensorFileName)
			b, _ := os.ReadFile(p)
			b = b[:len(b)-4]
			os.WriteFile(p, b, 0o644)
			editConfig(t, dir, func(m map[string]any) { m["tensor_sha256"] = SHA256Hex(b) })
		}, TensorFileName, "truncated", ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := SaveBundle(dir, sampleBundle()); err != nil {
				t.Fatal(err)
			}
			tc.break_(t, dir)
			_, err := LoadBundle(dir)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), filepath.Join(dir, tc.file)) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to name %s and contain %q", err, tc.file, tc.want)
			}
		})
	}
}

func TestSaveBundleErrors(t *testing.T) {
	dir := t.TempDir()
	b := sampleBundle()
	b.Config.VocabSHA256 = strings.Repeat("0", 64)
	if err := SaveBundle(dir, b); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "vocab.txt hash in config") {
		t.Errorf("vocab hash: %v", err)
	}
	b = sampleBundle()
	b.Config.Architecture = ""
	if err := SaveBundle(dir, b); !errors.Is(err, ErrInvalid) {
		t.Errorf("no architecture: %v", err)
	}
	if err := SaveBundle(dir, &Bundle{Config: BundleConfig{Architecture: "x"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no tensors: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ConfigFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Error("failed saves left a config.json")
	}
}

func editConfig(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	p := filepath.Join(dir, ConfigFileName)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadBundleFS(t *testing.T) {
	dir := t.TempDir()
	b := sampleBundle()
	b.Config.TensorFile = CompressedTensorFileName
	if err := SaveBundle(dir, b); err != nil {
		t.Fatal(err)
	}
	mfs := fstest.MapFS{}
	for _, name := range []string{ConfigFileName, CompressedTensorFileName, VocabFileName, LexiconFileName} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		mfs[name] = &fstest.MapFile{Data: data}
	}
	got, err := LoadBundleFS(mfs)
	if err != nil {
		t.Fatal(err)
	}
	if got.Config.TensorSHA256 != b.Config.TensorSHA256 || string(got.Vocab) != string(b.Vocab) {
		t.Error("bundle differs")
	}
	delete(mfs, CompressedTensorFileName)
	if _, err := LoadBundleFS(mfs); !errors.Is(err, fs.ErrNotExist) ||
		!strings.HasPrefix(err.Error(), "bundle model.safetensors.zst: ") {
		t.Errorf("missing tensor file: %v", err)
	}
}
