package text

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func tokens(v *Vocab) []string {
	out := make([]string, v.Len())
	for i := range out {
		out[i] = v.Token(i)
	}
	return out
}

func TestBuildVocab(t *testing.T) {
	texts := []string{"abca", "bcb 中", "中x2"}
	tests := []struct {
		name    string
		minFreq int
		opt     VocabOptions
		want    []string
	}{
		{"frequency then code point", 1, VocabOptions{}, []string{"b", "a", "c", "中", " ", "2", "x"}},
		{"min frequency", 2, VocabOptions{}, []string{"b", "a", "c", "中"}},
		{"min frequency below one counts as one", -5, VocabOptions{}, []string{"b", "a", "c", "中", " ", "2", "x"}},
		{"digit class", 1, VocabOptions{DigitClass: true}, []string{NumToken, "b", "a", "c", "中", " ", "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := BuildVocab(texts, tt.minFreq, tt.opt)
			want := append([]string{PadToken, UnkToken, ClsToken, SepToken, MaskToken}, tt.want...)
			if got := tokens(v); !slices.Equal(got, want) {
				t.Errorf("tokens = %q, want %q", got, want)
			}
		})
	}

	v := BuildVocab(texts, 1, VocabOptions{})
	if got, want := v.Encode([]rune("ab中?7")), []int32{6, 5, 8, UnkID, UnkID}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	if v.ID('2') != 10 || v.ID(-1) != UnkID || v.ID(0x10FFFF) != UnkID {
		t.Errorf("ID('2'), ID(-1), ID(U+10FFFF) = %d, %d, %d", v.ID('2'), v.ID(-1), v.ID(0x10FFFF))
	}
	if v.Token(-1) != "" || v.Token(v.Len()) != "" {
		t.Error("Token out of range is not empty")
	}

	d := BuildVocab(texts, 1, VocabOptions{DigitClass: true})
	if got, want := d.Encode([]rune("0a9x")), []int32{NumID, 7, NumID, 11}; !slices.Equal(got, want) {
		t.Errorf("digit-class Encode = %v, want %v", got, want)
	}
	if d.ID('２') != UnkID {
		t.Error("a fullwidth digit (unnormalised text) must not join the digit class")
	}
}

func TestVocabSaveLoad(t *testing.T) {
	// Runes that need escaping next to ones that look like escapes or specials.
	texts := []string{"中 中\n\t\r\\\u0301\ufeff\u00a0😀[]nu\\\\\U000E0001"}
	for _, opt := range []VocabOptions{{}, {DigitClass: true}} {
		v := BuildVocab(append(texts, "123"), 1, opt)
		var buf bytes.Buffer
		if err := v.Save(&buf); err != nil {
			t.Fatal(err)
		}
		w, err := LoadVocab(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("LoadVocab(Save output):\n%s\nerror: %v", buf.String(), err)
		}
		if !slices.Equal(tokens(v), tokens(w)) {
			t.Errorf("round trip changed tokens:\n%q\n%q", tokens(v), tokens(w))
		}
		if v.Hash() != w.Hash() {
			t.Error("round trip changed the hash")
		}
		if got, want := w.Encode([]rune("1中\n")), v.Encode([]rune("1中\n")); !slices.Equal(got, want) {
			t.Errorf("loaded Encode = %v, want %v", got, want)
		}
		for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
			if strings.ContainsAny(line, " \t\r\u00a0\ufeff\u0301") {
				t.Errorf("line %q holds a rune that should be escaped", line)
			}
		}
	}
}

func TestVocabFormat(t *testing.T) {
	v := BuildVocab([]string{"中中 a\\\n"}, 1, VocabOptions{DigitClass: true})
	var buf bytes.Buffer
	if err := v.Save(&buf); err != nil {
		t.Fatal(err)
	}
	const want = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n[NUM]\n中\n\\n\n\\u0020\n\\\\\na\n"
	if buf.String() != want {
		t.Errorf("Save wrote %q, want %q", buf.String(), want)
	}
	// Pinned so that a change of format or hash, which would orphan every shipped model
	// bundle, cannot pass unnoticed.
	const wantHash = "bb2f6306f5d95a58928742916dc0b7cabb215b85469d2200b66eb34aa841105d"
	if got := v.Hash(); got != wantHash {
		t.Errorf("Hash = %s, want %s", got, wantHash)
	}
	// Another spelling of the same tokens is the same vocabulary.
	alt := strings.Replace(want, "中", `\u4E2D`, 1)
	alt = strings.ReplaceAll(alt, "\n", "\r\n")
	alt = strings.TrimSuffix(alt, "\r\n")
	w, err := LoadVocab(strings.NewReader(alt))
	if err != nil {
		t.Fatal(err)
	}
	if w.Hash() != wantHash {
		t.Errorf("Hash of an equivalent spelling = %s, want %s", w.Hash(), wantHash)
	}
}

func TestLoadVocabErrors(t *testing.T) {
	const head = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n"
	tests := []struct {
		name string
		in   string
		line int
		msg  string
	}{
		{"empty input", "", 1, "missing special token [PAD]"},
		{"truncated specials", "[PAD]\n[UNK]\n", 3, "missing special token [CLS]"},
		{"specials out of order", "[PAD]\n[CLS]\n[UNK]\n[SEP]\n[MASK]\n", 2, "want special token [UNK]"},
		{"char before specials", "a\n" + head, 1, "want special token [PAD]"},
		{"duplicate token", head + "a\nb\na\n", 8, "duplicate token 'a' (first on line 6)"},
		{"duplicate through an escape", head + "中\n\\u4e2d\n", 7, "duplicate token"},
		{"duplicate special", head + "[PAD]\n", 6, "not a special in its place"},
		{"unknown special", head + "[FOO]\n", 6, "not a special in its place"},
		{"[NUM] out of place", head + "a\n[NUM]\n", 7, "not a special in its place"},
		{"digit next to [NUM]", head + "[NUM]\na\n7\n", 8, "digit '7'"},
		{"empty line", head + "a\n\nb\n", 7, "empty line"},
		{"two characters", head + "ab\n", 6, "more than one character"},
		{"unknown escape", head + "\\x41\n", 6, "bad escape"},
		{"lone backslash", head + "\\\n", 6, "bad escape"},
		{"short \\u", head + "\\u41\n", 6, "want 4 hex digits"},
		{"non-hex \\u", head + "\\u00g1\n", 6, "want 4 hex digits"},
		{"signed \\U", head + "\\U+0000041\n", 6, "want 8 hex digits"},
		{"surrogate", head + "\\uD800\n", 6, "not a valid character"},
		{"beyond Unicode", head + "\\U00110000\n", 6, "not a valid character"},
		{"invalid UTF-8", head + "a\n\xff\n", 7, "invalid UTF-8"},
		{"long line", head + strings.Repeat("x", 200) + "\n", 6, "line longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadVocab(strings.NewReader(tt.in))
			var ve *VocabError
			if !errors.As(err, &ve) {
				t.Fatalf("error = %v, want a *VocabError", err)
			}
			if ve.Line != tt.line || !strings.Contains(ve.Msg, tt.msg) {
				t.Errorf("error = %v, want line %d and %q", err, tt.line, tt.msg)
			}
		})
	}

	t.Run("read error is wrapped", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := LoadVocab(iotest.ErrReader(boom))
		if !errors.Is(err, boom) {
			t.Errorf("error = %v, want it to wrap %v", err, boom)
		}
	})
}

func FuzzLoadVocab(f *testing.F) {
	var buf bytes.Buffer
	_ = BuildVocab([]string{"中 a\\\n\u0301😀1"}, 1, VocabOptions{}).Save(&buf)
	f.Add(buf.Bytes())
	buf.Reset()
	_ = BuildVocab([]string{"中1"}, 1, VocabOptions{DigitClass: true}).Save(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n\\U0001F600\r\n\\u00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := LoadVocab(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever loads must survive its own round trip unchanged.
		var out bytes.Buffer
		if err := v.Save(&out); err != nil {
			t.Fatal(err)
		}
		w, err := LoadVocab(&out)
		if err != nil {
			t.Fatalf("reloading Save output: %v", err)
		}
		if v.Hash() != w.Hash() || !slices.Equal(tokens(v), tokens(w)) {
			t.Fatal("round trip changed the vocabulary")
		}
	})
}
