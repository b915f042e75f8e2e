package weights

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// BundleFormatVersion is the config.json format version this package writes
// and the only one it reads.
const BundleFormatVersion = 1

// File names inside a bundle directory.
const (
	ConfigFileName           = "config.json"
	TensorFileName           = "model.safetensors"
	CompressedTensorFileName = "model.safetensors.zst"
	VocabFileName            = "vocab.txt"
	LexiconFileName          = "lexicon.bin"
)

// Values of BundleConfig.Quantization.
const (
	QuantNone       = "none"
	QuantInt8PerRow = "int8-per-row"
)

// DefaultNotice is the research-use notice SaveBundle records when the
// config has none.
const DefaultNotice = "Research use only. Not a medical device: predictions " +
	"(entities, PHI, synthetic records) may be wrong and must be reviewed by " +
	"qualified staff before any clinical or disclosure decision."

// BundleConfig is config.json of a model bundle. LoadBundle parses it
// strictly: unknown fields, trailing data, another format_version, an
// unknown quantization, a tensor_file other than the two standard names,
// a malformed hash, an empty architecture or notice, and empty or
// duplicate tags are errors. Strictness is deliberate: a misspelt or newer
// field silently ignored could load a model with the wrong tag set or
// quantisation.
type BundleConfig struct {
	FormatVersion int `json:"format_version"`
	// Architecture names the model ("bigru-attn-crf", "char-lm", "bert",
	// "dae", "medgan", ...); Hyperparams is its hyper-parameters as the
	// model package defines them, kept verbatim.
	Architecture string          `json:"architecture"`
	Hyperparams  json.RawMessage `json:"hyperparams,omitempty"`
	// Schema names the label schema ("ccks2017", "cmeee", "phi", ...) and
	// Tags is its tag set in output-index order ("O", "B-DIS", ...).
	Schema string   `json:"schema,omitempty"`
	Tags   []string `json:"tags,omitempty"`
	// VocabSHA256 and LexiconSHA256 (SHA256Hex of the file bytes)
	// identify the vocabulary and dictionary the model was trained with.
	// When the bundle holds vocab.txt or lexicon.bin the hash is required
	// and verified; otherwise it lets the caller check an external copy.
	VocabSHA256   string       `json:"vocab_sha256,omitempty"`
	LexiconSHA256 string       `json:"lexicon_sha256,omitempty"`
	Training      TrainingInfo `json:"training"`
	// Metrics holds scores by protocol, then split, then metric name, e.g.
	// {"ccks2017-strict": {"test": {"f1": 0.912}}}.
	Metrics      map[string]map[string]map[string]float64 `json:"metrics,omitempty"`
	Quantization string                                   `json:"quantization"`
	Created      time.Time                                `json:"created"`
	ToolVersion  string                                   `json:"tool_version,omitempty"`
	Notice       string                                   `json:"notice"`
	// TensorFile is TensorFileName or CompressedTensorFileName, and
	// TensorSHA256 the SHA256Hex of that file's bytes as stored.
	TensorFile   string `json:"tensor_file"`
	TensorSHA256 string `json:"tensor_sha256"`
}

// TrainingInfo describes the data a model was trained on.
type TrainingInfo struct {
	Datasets []DatasetRef `json:"datasets,omitempty"`
	Protocol string       `json:"protocol,omitempty"` // e.g. "ccks2017-official"
	Split    string       `json:"split,omitempty"`    // e.g. "train" or "train+dev"
	Notes    string       `json:"notes,omitempty"`
}

// DatasetRef names one training data set and the files used from it.
type DatasetRef struct {
	Name  string   `json:"name"`
	Files []string `json:"files,omitempty"`
}

// Bundle is a model bundle in memory. On disk it is a directory holding
// config.json, model.safetensors or model.safetensors.zst, and optionally
// vocab.txt and lexicon.bin (kept as raw bytes: parsing them is the job of
// the packages that own those formats).
type Bundle struct {
	Config  BundleConfig
	Tensors *File
	Vocab   []byte // nil when the bundle has no vocab.txt
	Lexicon []byte // nil when the bundle has no lexicon.bin
}

// SHA256Hex returns the lowercase hex SHA-256 of b, the hash format of
// BundleConfig.
func SHA256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// SaveBundle writes b into dir (created if needed) and completes b.Config
// in place: FormatVersion, TensorFile (default TensorFileName; choose
// CompressedTensorFileName for zstd), Quantization (inferred from ".q"
// tensors when empty), Created (now, UTC, when zero), Notice (DefaultNotice
// when empty) and the hashes. A vocab or lexicon hash already set must
// match the bytes given. config.json is written last, so a directory
// with a config.json is a complete bundle; stale optional files and the
// other tensor-file variant are removed.
func SaveBundle(dir string, b *Bundle) error {
	c := &b.Config
	if b.Tensors == nil {
		return fmt.Errorf("bundle %s: no tensors: %w", dir, ErrInvalid)
	}
	if c.FormatVersion == 0 {
		c.FormatVersion = BundleFormatVersion
	}
	if c.TensorFile == "" {
		c.TensorFile = TensorFileName
	}
	if c.Quantization == "" {
		c.Quantization = QuantNone
		for _, t := range b.Tensors.Tensors {
			if t.DType == I8 && strings.HasSuffix(t.Name, QuantSuffix) {
				c.Quantization = QuantInt8PerRow
			}
		}
	}
	if c.Created.IsZero() {
		c.Created = time.Now().UTC().Truncate(time.Second)
	}
	if c.Notice == "" {
		c.Notice = DefaultNotice
	}
	extras := []struct {
		name string
		data []byte
		hash *string
	}{{VocabFileName, b.Vocab, &c.VocabSHA256}, {LexiconFileName, b.Lexicon, &c.LexiconSHA256}}
	for _, e := range extras {
		if e.data == nil {
			continue
		}
		h := SHA256Hex(e.data)
		if *e.hash != "" && *e.hash != h {
			return fmt.Errorf("bundle %s: %s hash in config %s does not match the data given (%s): %w",
				dir, e.name, *e.hash, h, ErrMismatch)
		}
		*e.hash = h
	}
	var buf bytes.Buffer
	if _, err := b.Tensors.WriteTo(&buf); err != nil {
		return fmt.Errorf("bundle %s: %w", dir, err)
	}
	tensorBytes := buf.Bytes()
	if c.TensorFile == CompressedTensorFileName {
		var err error
		if tensorBytes, err = compress(tensorBytes); err != nil {
			return fmt.Errorf("bundle %s: %w", dir, err)
		}
	}
	c.TensorSHA256 = SHA256Hex(tensorBytes)
	if err := c.validate(); err != nil {
		return fmt.Errorf("bundle %s: %w", dir, err)
	}
	cfgJSON, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("bundle %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bundle %s: %w", dir, err)
	}
	// Remove config.json first: until it is rewritten the directory is not
	// a bundle, so a crash midway never leaves a config over wrong files.
	for _, name := range []string{ConfigFileName, TensorFileName, CompressedTensorFileName, VocabFileName, LexiconFileName} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("bundle %s: %w", dir, err)
		}
	}
	if err := writeFileAtomic(filepath.Join(dir, c.TensorFile), tensorBytes); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	for _, e := range extras {
		if e.data != nil {
			if err := writeFileAtomic(filepath.Join(dir, e.name), e.data); err != nil {
				return fmt.Errorf("bundle: %w", err)
			}
		}
	}
	if err := writeFileAtomic(filepath.Join(dir, ConfigFileName), append(cfgJSON, '\n')); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	return nil
}

// LoadBundle reads the bundle in dir: it parses config.json strictly (see
// BundleConfig), checks the tensor file's SHA-256 against the config
// before parsing it, and verifies vocab.txt and lexicon.bin when present.
// Errors name the offending file.
func LoadBundle(dir string) (*Bundle, error) { return loadBundle(os.DirFS(dir), dir) }

// LoadBundleFS is LoadBundle for a bundle at the root of fsys: an embed.FS
// sub-tree (fs.Sub) compiled into a binary, or files the browser fetched
// (fstest.MapFS). Errors name files relative to fsys.
func LoadBundleFS(fsys fs.FS) (*Bundle, error) { return loadBundle(fsys, "") }

func loadBundle(fsys fs.FS, dir string) (*Bundle, error) {
	path := func(name string) string {
		if dir == "" {
			return name
		}
		return filepath.Join(dir, name)
	}
	read := func(name string, limit int64) ([]byte, error) {
		fh, err := fsys.Open(name)
		if err != nil {
			return nil, fmt.Errorf("bundle %s: %w", path(name), err)
		}
		defer fh.Close()
		b, err := readAllLimit(fh, limit)
		if err != nil {
			return nil, fmt.Errorf("bundle %s: %w", path(name), err)
		}
		return b, nil
	}

	cfgPath := path(ConfigFileName)
	raw, err := read(ConfigFileName, MaxHeaderSize)
	if err != nil {
		return nil, err
	}
	b := &Bundle{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b.Config); err != nil {
		return nil, fmt.Errorf("bundle %s: %w: %w", cfgPath, err, ErrInvalid)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("bundle %s: data after the JSON object: %w", cfgPath, ErrInvalid)
	}
	c := &b.Config
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("bundle %s: %w", cfgPath, err)
	}

	tensorPath := path(c.TensorFile)
	tb, err := read(c.TensorFile, MaxSize)
	if err != nil {
		return nil, err
	}
	if h := SHA256Hex(tb); h != c.TensorSHA256 {
		return nil, fmt.Errorf("bundle %s: sha256 %s, but %s records %s: %w", tensorPath, h, ConfigFileName, c.TensorSHA256, ErrMismatch)
	}
	if b.Tensors, err = parseFile(tensorPath, tb); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}

	for _, e := range []struct {
		name string
		dst  *[]byte
		hash string
	}{{VocabFileName, &b.Vocab, c.VocabSHA256}, {LexiconFileName, &b.Lexicon, c.LexiconSHA256}} {
		data, err := read(e.name, MaxSize)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if e.hash == "" {
			return nil, fmt.Errorf("bundle %s: present but %s records no hash for it: %w", path(e.name), ConfigFileName, ErrInvalid)
		}
		if h := SHA256Hex(data); h != e.hash {
			return nil, fmt.Errorf("bundle %s: sha256 %s, but %s records %s: %w", path(e.name), h, ConfigFileName, e.hash, ErrMismatch)
		}
		*e.dst = data
	}
	return b, nil
}

func (c *BundleConfig) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalid)
	}
	switch {
	case c.FormatVersion != BundleFormatVersion:
		return bad("format_version %d is not supported (this build reads %d)", c.FormatVersion, BundleFormatVersion)
	case c.Architecture == "":
		return bad("architecture is empty")
	case c.Quantization != QuantNone && c.Quantization != QuantInt8PerRow:
		return bad("quantization %q: want %q or %q", c.Quantization, QuantNone, QuantInt8PerRow)
	case c.TensorFile != TensorFileName && c.TensorFile != CompressedTensorFileName:
		return bad("tensor_file %q: want %q or %q", c.TensorFile, TensorFileName, CompressedTensorFileName)
	case c.Notice == "":
		return bad("notice is empty")
	}
	for _, h := range []struct{ field, value string }{
		{"tensor_sha256", c.TensorSHA256}, {"vocab_sha256", c.VocabSHA256}, {"lexicon_sha256", c.LexiconSHA256},
	} {
		if (h.value != "" || h.field == "tensor_sha256") && !isSHA256Hex(h.value) {
			return bad("%s %q is not 64 lowercase hex digits", h.field, h.value)
		}
	}
	seen := map[string]bool{}
	for i, t := range c.Tags {
		if t == "" || seen[t] {
			return bad("tags[%d] %q is empty or repeated", i, t)
		}
		seen[t] = true
	}
	return nil
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
