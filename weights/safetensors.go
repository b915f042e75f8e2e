package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Error categories; every error this package returns for bad input wraps
// one of them, so callers can test with errors.Is.
var (
	// ErrInvalid: the input is not a well-formed safetensors file, bundle
	// or tensor.
	ErrInvalid = errors.New("invalid")
	// ErrTooLarge: a size limit (header, decompressed size) was exceeded.
	ErrTooLarge = errors.New("too large")
	// ErrNotFound: a named tensor is absent.
	ErrNotFound = errors.New("not found")
	// ErrMismatch: a tensor exists but has another dtype or shape than
	// the caller expects, or a recorded hash does not match.
	ErrMismatch = errors.New("mismatch")
)

// MaxHeaderSize caps the JSON header, as the reference implementation does
// (100 MB). A larger declared length is refused before anything is read.
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header key holding the string→string map.
const metadataKey = "__metadata__"

// File is the content of one safetensors file: optional string metadata and
// the tensors. Parse returns tensors in file (data offset) order; WriteTo
// writes them in the reference order whatever the order of the slice.
type File struct {
	Metadata map[string]string
	Tensors  []Tensor
}

// Get returns the named tensor, or an error wrapping ErrNotFound.
func (f *File) Get(name string) (*Tensor, error) {
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return &f.Tensors[i], nil
		}
	}
	return nil, fmt.Errorf("tensor %s: %w", name, ErrNotFound)
}

// Expect returns the named tensor after checking its dtype and shape; a
// dimension of -1 in shape matches any size. Errors read, for example,
// "tensor tagger.gru.w_ih: want shape [384 128], got [384 64]: mismatch".
func (f *File) Expect(name string, dtype DType, shape ...int) (*Tensor, error) {
	t, err := f.Get(name)
	if err != nil {
		return nil, err
	}
	if t.DType != dtype {
		return nil, fmt.Errorf("tensor %s: want dtype %v, got %v: %w", name, dtype, t.DType, ErrMismatch)
	}
	if err := matchShape(t, shape); err != nil {
		return nil, err
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	return t, nil
}

func matchShape(t *Tensor, want []int) error {
	ok := len(want) == len(t.Shape)
	for i := 0; ok && i < len(want); i++ {
		ok = want[i] == -1 || want[i] == t.Shape[i]
	}
	if !ok {
		return fmt.Errorf("tensor %s: want shape %v, got %v: %w", t.Name, want, t.Shape, ErrMismatch)
	}
	return nil
}

// Add appends t after checking it is self-consistent and its name is new.
func (f *File) Add(t Tensor) error {
	if err := checkName(t.Name); err != nil {
		return err
	}
	if _, err := f.Get(t.Name); err == nil {
		return fmt.Errorf("tensor %s: duplicate name: %w", t.Name, ErrInvalid)
	}
	if err := t.check(); err != nil {
		return err
	}
	f.Tensors = append(f.Tensors, t)
	return nil
}

func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("tensor with an empty name: %w", ErrInvalid)
	case name == metadataKey:
		return fmt.Errorf("tensor %s: name is reserved for metadata: %w", name, ErrInvalid)
	case !utf8.ValidString(name):
		return fmt.Errorf("tensor %q: name is not valid UTF-8: %w", name, ErrInvalid)
	}
	return nil
}

// WriteTo writes f in the reference safetensors layout: the 8-byte header
// length, the compact JSON header ("__metadata__" first with its keys
// sorted, then the tensors, each as {"dtype","shape","data_offsets"}),
// padded with spaces to a multiple of 8 bytes, then the data. Tensors are
// ordered by decreasing dtype alignment (the DType constant order reversed),
// then by name, exactly as the Rust/Python library orders them, so every
// tensor's data is aligned to its element size and the output is
// byte-identical to safetensors.torch.save for the same tensors.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	header, order, err := f.header()
	if err != nil {
		return 0, err
	}
	var n8 [8]byte
	binary.LittleEndian.PutUint64(n8[:], uint64(len(header)))
	cw := &countWriter{w: w}
	cw.Write(n8[:])
	cw.Write(header)
	for _, t := range order {
		cw.Write(t.Data)
	}
	return cw.n, cw.err
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

func (f *File) header() ([]byte, []*Tensor, error) {
	order := make([]*Tensor, len(f.Tensors))
	seen := make(map[string]bool, len(f.Tensors))
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if err := checkName(t.Name); err != nil {
			return nil, nil, err
		}
		if seen[t.Name] {
			return nil, nil, fmt.Errorf("tensor %s: duplicate name: %w", t.Name, ErrInvalid)
		}
		seen[t.Name] = true
		if err := t.check(); err != nil {
			return nil, nil, err
		}
		order[i] = t
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].DType != order[j].DType {
			return order[i].DType > order[j].DType
		}
		return order[i].Name < order[j].Name
	})

	var b bytes.Buffer
	b.WriteByte('{')
	if f.Metadata != nil {
		writeJSONString(&b, metadataKey)
		b.WriteString(":{")
		keys := make([]string, 0, len(f.Metadata))
		for k := range f.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			v := f.Metadata[k]
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, nil, fmt.Errorf("metadata %q: not valid UTF-8: %w", k, ErrInvalid)
			}
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(&b, k)
			b.WriteByte(':')
			writeJSONString(&b, v)
		}
		b.WriteByte('}')
		if len(order) > 0 {
			b.WriteByte(',')
		}
	}
	offset := 0
	for i, t := range order {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, t.Name)
		b.WriteString(`:{"dtype":"`)
		b.WriteString(t.DType.String())
		b.WriteString(`","shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(d))
		}
		b.WriteString(`],"data_offsets":[`)
		b.WriteString(strconv.Itoa(offset))
		b.WriteByte(',')
		offset += len(t.Data)
		b.WriteString(strconv.Itoa(offset))
		b.WriteString("]}")
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	if b.Len() > MaxHeaderSize {
		return nil, nil, fmt.Errorf("header of %d bytes exceeds %d: %w", b.Len(), MaxHeaderSize, ErrTooLarge)
	}
	return b.Bytes(), order, nil
}

// writeJSONString escapes s as serde_json does: only '"', '\\' and control
// characters below 0x20 are escaped (\b \t \n \f \r short forms, otherwise
// \u00xx with lowercase hex); everything else, non-ASCII included, is
// written as is. Go's encoding/json would also escape <, >, & and U+2028.
func writeJSONString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\f':
			b.WriteString(`\f`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// parseSafetensors parses an uncompressed safetensors buffer. The returned
// tensors alias buf.
//
// Validation, strictest reasonable reading of the format: the header length
// must be ≤ MaxHeaderSize and fit in buf; the header must be valid UTF-8
// JSON holding one object, optionally followed by whitespace padding (any
// amount); names must be unique and non-empty; each entry needs exactly the
// keys dtype, shape and data_offsets (unknown keys are refused); dims are
// non-negative; the data_offsets span must equal elements × dtype size; and
// the tensors, sorted by offset, must tile the data buffer exactly: no
// holes, no overlaps, no trailing bytes (the spec's and the reference
// reader's rule).
func parseSafetensors(buf []byte) (*File, error) {
	if len(buf) < 8 {
		return nil, fmt.Errorf("file of %d bytes is shorter than the 8-byte header length: %w", len(buf), ErrInvalid)
	}
	n := binary.LittleEndian.Uint64(buf)
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("header length %d exceeds the %d-byte limit: %w", n, MaxHeaderSize, ErrTooLarge)
	}
	if n > uint64(len(buf)-8) {
		return nil, fmt.Errorf("header length %d runs past the end of the %d-byte file: %w", n, len(buf), ErrInvalid)
	}
	header := buf[8 : 8+n]
	data := buf[8+n:]
	f, spans, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	if err := checkSpans(f.Tensors, spans, len(data)); err != nil {
		return nil, err
	}
	for i := range f.Tensors {
		f.Tensors[i].Data = data[spans[i][0]:spans[i][1]:spans[i][1]]
	}
	return f, nil
}

type span [2]int

func parseHeader(header []byte) (*File, []span, error) {
	if !utf8.Valid(header) {
		return nil, nil, fmt.Errorf("header is not valid UTF-8: %w", ErrInvalid)
	}
	if len(header) == 0 || header[0] != '{' {
		return nil, nil, fmt.Errorf("header does not start with '{': %w", ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("header JSON: %w: %w", err, ErrInvalid)
	}
	f := &File{}
	var spans []span
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("header JSON: %w: %w", err, ErrInvalid)
		}
		name, _ := tok.(string) // object keys are always strings
		if seen[name] {
			return nil, nil, fmt.Errorf("tensor %s: duplicate name in header: %w", name, ErrInvalid)
		}
		seen[name] = true
		if name == metadataKey {
			if f.Metadata, err = parseMetadata(dec); err != nil {
				return nil, nil, err
			}
			continue
		}
		if err := checkName(name); err != nil {
			return nil, nil, err
		}
		t, sp, err := parseEntry(dec, name)
		if err != nil {
			return nil, nil, err
		}
		f.Tensors = append(f.Tensors, t)
		spans = append(spans, sp)
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, nil, fmt.Errorf("header JSON: %w: %w", err, ErrInvalid)
	}
	rest := header[dec.InputOffset():]
	if len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
		return nil, nil, fmt.Errorf("header has non-whitespace bytes after the JSON object: %w", ErrInvalid)
	}
	return f, spans, nil
}

func parseMetadata(dec *json.Decoder) (map[string]string, error) {
	bad := func(what string) error {
		return fmt.Errorf("header %s: %s: %w", metadataKey, what, ErrInvalid)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, bad("not a JSON object of strings")
	}
	m := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad(err.Error())
		}
		k, _ := tok.(string)
		if _, dup := m[k]; dup {
			return nil, bad(fmt.Sprintf("duplicate key %q", k))
		}
		tok, err = dec.Token()
		v, isString := tok.(string)
		if err != nil || !isString {
			return nil, bad(fmt.Sprintf("value of %q is not a string", k))
		}
		m[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, bad(err.Error())
	}
	return m, nil
}

func parseEntry(dec *json.Decoder, name string) (Tensor, span, error) {
	t := Tensor{Name: name}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("tensor %s: %s: %w", name, fmt.Sprintf(format, args...), ErrInvalid)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return t, span{}, bad("header entry is not a JSON object")
	}
	var offsets []int64
	var haveDType, haveShape, haveOffsets bool
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return t, span{}, bad("header JSON: %v", err)
		}
		key, _ := tok.(string)
		switch key {
		case "dtype":
			if haveDType {
				return t, span{}, bad("duplicate key dtype")
			}
			haveDType = true
			var s string
			if err := dec.Decode(&s); err != nil {
				return t, span{}, bad("dtype: %v", err)
			}
			if t.DType, err = ParseDType(s); err != nil {
				return t, span{}, fmt.Errorf("tensor %s: %w", name, err)
			}
		case "shape":
			if haveShape {
				return t, span{}, bad("duplicate key shape")
			}
			haveShape = true
			var dims *[]int64
			if err := dec.Decode(&dims); err != nil || dims == nil {
				return t, span{}, bad("shape is not an array of integers")
			}
			t.Shape = make([]int, len(*dims))
			for i, d := range *dims {
				if d < 0 || d > maxElements {
					return t, span{}, bad("shape %v: dimension %d is negative or too large", *dims, i)
				}
				t.Shape[i] = int(d)
			}
		case "data_offsets":
			if haveOffsets {
				return t, span{}, bad("duplicate key data_offsets")
			}
			haveOffsets = true
			if err := dec.Decode(&offsets); err != nil || offsets == nil {
				return t, span{}, bad("data_offsets is not an array of integers")
			}
			if len(offsets) != 2 {
				return t, span{}, bad("data_offsets %v: want [begin, end]", offsets)
			}
		default:
			return t, span{}, bad("unknown key %q", key)
		}
	}
	if _, err := dec.Token(); err != nil {
		return t, span{}, bad("header JSON: %v", err)
	}
	if !haveDType || !haveShape || !haveOffsets {
		return t, span{}, bad("header entry needs dtype, shape and data_offsets")
	}
	b, e := offsets[0], offsets[1]
	if b < 0 || e < b || e > maxElements {
		return t, span{}, bad("data_offsets [%d, %d] out of range", b, e)
	}
	n, ok := numElements(t.Shape)
	if !ok {
		return t, span{}, bad("shape %v: element count overflows", t.Shape)
	}
	if want := int64(n) * int64(t.DType.Size()); e-b != want {
		return t, span{}, bad("shape %v of %v needs %d bytes, data_offsets [%d, %d] span %d",
			t.Shape, t.DType, want, b, e, e-b)
	}
	return t, span{int(b), int(e)}, nil
}

// checkSpans checks that the spans tile [0, size) exactly and sorts the
// tensors (with their spans) into offset order.
func checkSpans(ts []Tensor, spans []span, size int) error {
	idx := make([]int, len(ts))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		sa, sb := spans[idx[a]], spans[idx[b]]
		return sa[0] < sb[0] || (sa[0] == sb[0] && sa[1] < sb[1])
	})
	end := 0
	for _, i := range idx {
		s := spans[i]
		switch {
		case s[1] > size:
			return fmt.Errorf("tensor %s: data_offsets [%d, %d] run past the %d-byte data buffer (truncated file?): %w",
				ts[i].Name, s[0], s[1], size, ErrInvalid)
		case s[0] < end:
			return fmt.Errorf("tensor %s: data_offsets [%d, %d] overlap the previous tensor ending at %d: %w",
				ts[i].Name, s[0], s[1], end, ErrInvalid)
		case s[0] > end:
			return fmt.Errorf("tensor %s: data_offsets [%d, %d] leave a hole after byte %d: %w",
				ts[i].Name, s[0], s[1], end, ErrInvalid)
		}
		end = s[1]
	}
	if end != size {
		return fmt.Errorf("data buffer has %d bytes but the tensors cover %d (trailing bytes): %w", size, end, ErrInvalid)
	}
	sortedT := make([]Tensor, len(ts))
	sortedS := make([]span, len(ts))
	for k, i := range idx {
		sortedT[k], sortedS[k] = ts[i], spans[i]
	}
	copy(ts, sortedT)
	copy(spans, sortedS)
	return nil
}

// Equal reports whether two tensors have the same name, dtype, shape and
// bytes.
func (t *Tensor) Equal(u *Tensor) bool {
	return t.Name == u.Name && t.DType == u.DType && slices.Equal(t.Shape, u.Shape) && bytes.Equal(t.Data, u.Data)
}
