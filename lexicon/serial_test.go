package lexicon

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func serialFixture(t testing.TB) *Dictionary {
	t.Helper()
	b := NewBuilder(lower)
	for _, a := range []fixtureTerm{{"头痛", TypeSymptom}, {"头痛伴", TypeSymptom}, {"心悸", TypeSymptom}, {"心电图", TypeCheck}, {"颅脑CT", TypeCheck}, {"𠀀𠀁", TypeMedical}} {
		if _, err := b.AddListTerm(a.term, a.typ, "list"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Add("头痛", TypeDisease, "train"); err != nil {
		t.Fatal(err)
	}
	d, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func serialise(t testing.TB, d *Dictionary) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := d.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo: %d %v", n, err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	d := serialFixture(t)
	data := serialise(t, d)
	r, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if r.Hash() != d.Hash() || len(d.Hash()) != 64 {
		t.Errorf("hash %s vs %s", r.Hash(), d.Hash())
	}
	if !bytes.Equal(serialise(t, r), data) {
		t.Error("re-serialisation differs")
	}
	text := []rune("头痛伴心悸，颅脑ct心电图𠀀𠀁")
	for _, mode := range []Mode{Forward, Backward, Bidirectional} {
		if a, b := d.Segment(text, mode), r.Segment(text, mode); !slices.Equal(a, b) {
			t.Errorf("%s: %v vs %v", mode, a, b)
		}
	}
	if e := r.Lookup([]rune("头痛")); len(e) != 2 || e[0] != (Entry{TypeDisease, "train", OriginAnnotation}) {
		t.Errorf("entries %v", e)
	}
	if a, b := d.Stats(), r.Stats(); a.Terms != b.Terms || a.Slots != b.Slots || a.BySource["list"] != b.BySource["list"] {
		t.Errorf("stats %+v vs %+v", a, b)
	}
}

func TestHashChangesWithContent(t *testing.T) {
	d := serialFixture(t)
	b := NewBuilder(nil)
	b.AddListTerm("头痛", TypeDisease, "list")
	e, _ := b.Build()
	if d.Hash() == e.Hash() {
		t.Error("different dictionaries, same hash")
	}
}

// wrapBody serialises an arbitrary body with a valid header and zstd frame.
func wrapBody(t testing.TB, body []byte) []byte {
	t.Helper()
	return append(header(len(body)), testEncoder().EncodeAll(body, nil)...)
}

var testEncoder = sync.OnceValue(func() *zstd.Encoder {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		panic(err)
	}
	return enc
})

func TestReadErrors(t *testing.T) {
	d := serialFixture(t)
	data := serialise(t, d)
	body := d.body()
	badVersion := slices.Clone(data)
	binary.LittleEndian.PutUint16(badVersion[len(magic):], 99)
	longLen := slices.Clone(data)
	binary.LittleEndian.PutUint32(longLen[len(magic)+2:], maxBodyLen+1)
	wrongLen := slices.Clone(data)
	binary.LittleEndian.PutUint32(wrongLen[len(magic)+2:], uint32(len(body)+1))
	flipped := slices.Clone(data)
	flipped[len(flipped)-6] ^= 0x40
	tests := []struct {
		name, want string
		data       []byte
	}{
		{"empty", "reading header", nil},
		{"short header", "reading header", data[:5]},
		{"bad magic", "bad magic", append([]byte("notbingl"), data[8:]...)},
		{"bad version", "version 99", badVersion},
		{"huge body length", "exceeds the limit", longLen},
		{"body length mismatch", "header says", wrongLen},
		{"truncated stream", "decompressing", data[:len(data)-10]},
		{"corrupt stream", "", flipped},
		{"trailing garbage", "decompressing", append(slices.Clone(data), "garbage"...)},
		{"truncated body", "corrupt dictionary", wrapBody(t, body[:len(body)-3])},
		{"body with trailing bytes", "trailing data", wrapBody(t, append(slices.Clone(body), 0))},
		{"empty body", "corrupt dictionary", wrapBody(t, nil)},
		{"huge count", "exceeds the remaining data", wrapBody(t, []byte{0xff, 0xff, 0xff, 0x7f})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestReadRejectsBrokenTrie corrupts single trie values in a valid body.
func TestReadRejectsBrokenTrie(t *testing.T) {
	d := serialFixture(t)
	mutate := []struct {
		name string
		f    func(base, check []int32)
	}{
		{"root check", func(base, check []int32) { check[0] = 5 }},
		{"root base", func(base, check []int32) { base[0] = 0 }},
		{"base out of range", func(base, check []int32) { base[firstInner(base, check)] = int32(len(base) + 5) }},
		{"value out of range", func(base, check []int32) { base[firstLeaf(base, check)] = -1000 }},
		{"parent out of range", func(base, check []int32) { check[firstLeaf(base, check)] = int32(len(check) + 3) }},
		{"parent is a leaf", func(base, check []int32) { check[firstInner(base, check)] = int32(firstLeaf(base, check)) }},
	}
	for _, m := range mutate {
		t.Run(m.name, func(t *testing.T) {
			c := &Dictionary{base: slices.Clone(d.base), check: slices.Clone(d.check),
				alphabet: d.alphabet, combos: d.combos, sources: d.sources, terms: d.terms}
			m.f(c.base, c.check)
			if _, err := Read(bytes.NewReader(wrapBody(t, c.body()))); err == nil {
				t.Error("no error")
			}
		})
	}
}

func firstLeaf(base, check []int32) int {
	for s := 1; s < len(base); s++ {
		if check[s] >= 0 && base[s] < 0 {
			return s
		}
	}
	panic("no leaf")
}

func firstInner(base, check []int32) int {
	for s := 1; s < len(base); s++ {
		if check[s] >= 0 && base[s] > 0 {
			return s
		}
	}
	panic("no inner node")
}

// FuzzRead feeds arbitrary bytes to Read, both as a whole serialisation and
// as a body behind a valid header and zstd frame (which reaches the body
// parser and the trie validator). Read must never panic, and a dictionary
// it accepts must be usable and serialise to an equivalent one.
func FuzzRead(f *testing.F) {
	d := serialFixture(f)
	data := serialise(f, d)
	f.Add(data)
	f.Add(d.body())
	f.Add(data[:len(data)/2])
	empty, _ := NewBuilder(nil).Build()
	f.Add(empty.body())
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, input := range [][]byte{in, wrapBody(t, in)} {
			r, err := Read(bytes.NewReader(input))
			if err != nil {
				continue
			}
			text := []rune("头痛伴心悸，颅脑ct心电图𠀀𠀁abc")
			for _, mode := range []Mode{Forward, Backward, Bidirectional} {
				r.Segment(text, mode)
			}
			r.Features(text)
			r.Lookup(text[:2])
			r.Stats()
			again, err := Read(bytes.NewReader(serialise(t, r)))
			if err != nil {
				t.Fatalf("re-reading an accepted dictionary: %v", err)
			}
			if again.Hash() != r.Hash() {
				t.Fatal("hash changed on round trip")
			}
		}
	})
}
