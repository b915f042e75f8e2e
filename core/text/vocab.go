package text

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The special tokens and their fixed ids.
const (
	PadToken  = "[PAD]"
	UnkToken  = "[UNK]"
	ClsToken  = "[CLS]"
	SepToken  = "[SEP]"
	MaskToken = "[MASK]"
	// NumToken is the class token of every ASCII digit under VocabOptions.DigitClass; it
	// has id NumID when present.
	NumToken = "[NUM]"

	PadID  = 0
	UnkID  = 1
	ClsID  = 2
	SepID  = 3
	MaskID = 4
	NumID  = 5
)

var specials = [...]string{PadToken, UnkToken, ClsToken, SepToken, MaskToken}

// VocabOptions configures BuildVocab.
//
// DigitClass maps every ASCII digit to the one token [NUM] instead of giving each digit its
// own id. It is off by default: ten digits cost nothing in vocabulary size and are all
// frequent enough in clinical text to train well, and their identity carries meaning the
// taggers use (years in dates, lengths of phone and ID numbers for de-identification, the 1
// of "1型糖尿病" against the 2 of "2型糖尿病"). Turn it on for models that must ignore digit
// values, such as a language model meant to generalise across lab results.
type VocabOptions struct {
	DigitClass bool
}

// Vocab maps runes of normalised text to model ids. It is immutable once built or loaded.
type Vocab struct {
	tokens     []string
	ids        map[rune]int32
	ascii      [utf8.RuneSelf]int32 // ids of ASCII runes: Encode's common case without a map lookup
	digitClass bool
}

// BuildVocab counts the runes of texts (already normalised) and keeps those seen at least
// minFreq times (minFreq < 1 counts as 1), after the specials, by decreasing count and then
// increasing code point, so the same texts always give the same ids.
func BuildVocab(texts []string, minFreq int, opt VocabOptions) *Vocab {
	counts := make(map[rune]int)
	for _, t := range texts {
		for _, r := range t {
			if opt.DigitClass && isDigit(r) {
				continue
			}
			counts[r]++
		}
	}
	kept := make([]rune, 0, len(counts))
	for r, c := range counts {
		if c >= minFreq {
			kept = append(kept, r)
		}
	}
	slices.SortFunc(kept, func(a, b rune) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	v := newVocab(len(kept), opt.DigitClass)
	for _, r := range kept {
		v.addRune(r)
	}
	return v
}

func newVocab(n int, digitClass bool) *Vocab {
	v := &Vocab{
		tokens:     make([]string, 0, len(specials)+1+n),
		ids:        make(map[rune]int32, n),
		digitClass: digitClass,
	}
	v.tokens = append(v.tokens, specials[:]...)
	for i := range v.ascii {
		v.ascii[i] = UnkID
	}
	if digitClass {
		v.tokens = append(v.tokens, NumToken)
		for d := '0'; d <= '9'; d++ {
			v.ascii[d] = NumID
		}
	}
	return v
}

func (v *Vocab) addRune(r rune) {
	id := int32(len(v.tokens))
	v.tokens = append(v.tokens, string(r))
	v.ids[r] = id
	if r < utf8.RuneSelf {
		v.ascii[r] = id
	}
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// Len is the number of ids, specials included.
func (v *Vocab) Len() int { return len(v.tokens) }

// ID is the id of r: [NUM]'s for a digit under DigitClass, UnkID for a rune not in v.
func (v *Vocab) ID(r rune) int {
	if r >= 0 && r < utf8.RuneSelf {
		return int(v.ascii[r])
	}
	if id, ok := v.ids[r]; ok {
		return int(id)
	}
	return UnkID
}

// Token is the token of id: a special such as "[PAD]" or a one-rune string; "" when id is
// not in [0, Len()).
func (v *Vocab) Token(id int) string {
	if id < 0 || id >= len(v.tokens) {
		return ""
	}
	return v.tokens[id]
}

// Encode returns the ids of runes.
func (v *Vocab) Encode(runes []rune) []int32 {
	ids := make([]int32, len(runes))
	for i, r := range runes {
		ids[i] = int32(v.ID(r))
	}
	return ids
}

// Save writes v as text, one token per line in id order. Specials are written as they are;
// a rune that is whitespace, a backslash, a mark or not graphic is escaped as \n, \r, \t,
// \\, \uXXXX or \UXXXXXXXX, so that every line is one visible token.
func (v *Vocab) Save(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for i, tok := range v.tokens {
		if i < len(specials) || v.digitClass && i == NumID {
			bw.WriteString(tok)
		} else {
			r, _ := utf8.DecodeRuneInString(tok)
			writeEscaped(bw, r)
		}
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("text: writing vocab: %w", err)
	}
	return nil
}

func writeEscaped(w *bufio.Writer, r rune) {
	switch {
	case r == '\\':
		w.WriteString(`\\`)
	case r == '\n':
		w.WriteString(`\n`)
	case r == '\r':
		w.WriteString(`\r`)
	case r == '\t':
		w.WriteString(`\t`)
	case unicode.IsSpace(r) || unicode.IsMark(r) || !unicode.IsGraphic(r):
		if r > 0xFFFF {
			fmt.Fprintf(w, `\U%08X`, r)
		} else {
			fmt.Fprintf(w, `\u%04X`, r)
		}
	default:
		w.WriteRune(r)
	}
}

// Hash is the lowercase hex SHA-256 of v's Save output, which depends only on the tokens
// and their ids: model bundles record it to refuse a vocabulary they were not trained with.
func (v *Vocab) Hash() string {
	h := sha256.New()
	_ = v.Save(h) // a hash.Hash never fails to write
	return hex.EncodeToString(h.Sum(nil))
}

// VocabError reports a malformed vocabulary file.
type VocabError struct {
	Line int // 1-based
	Msg  string
}

func (e *VocabError) Error() string {
	return fmt.Sprintf("text: vocab line %d: %s", e.Line, e.Msg)
}

// maxVocabLine bounds a line well above the longest valid one (a \UXXXXXXXX escape and a
// '\r', 11 bytes), so a file that is not a vocabulary fails fast instead of filling memory.
const maxVocabLine = 64

// LoadVocab reads the format Save writes. It accepts a final line without '\n', lines ending
// in "\r\n", and any valid escape of any rune, and fails with a *VocabError naming the line
// for a missing or misplaced special, an empty line, a line that is not one rune, a bad
// escape, a duplicate token, a digit of its own next to [NUM], or invalid UTF-8.
func LoadVocab(r io.Reader) (*Vocab, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, maxVocabLine), maxVocabLine)
	var lines [][]byte
	for sc.Scan() {
		lines = append(lines, bytes.Clone(bytes.TrimSuffix(sc.Bytes(), []byte{'\r'})))
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &VocabError{Line: len(lines) + 1, Msg: fmt.Sprintf("line longer than %d bytes", maxVocabLine)}
		}
		return nil, fmt.Errorf("text: reading vocab: %w", err)
	}

	for i, want := range specials {
		if i >= len(lines) {
			return nil, &VocabError{Line: i + 1, Msg: fmt.Sprintf("missing special token %s (the file has %d lines)", want, len(lines))}
		}
		if got := string(lines[i]); got != want {
			return nil, &VocabError{Line: i + 1, Msg: fmt.Sprintf("want special token %s, found %q", want, got)}
		}
	}
	rest := lines[len(specials):]
	digitClass := len(rest) > 0 && string(rest[0]) == NumToken
	if digitClass {
		rest = rest[1:]
	}
	v := newVocab(len(rest), digitClass)
	for _, line := range rest {
		lineNo := len(v.tokens) + 1
		r, msg := parseTokenLine(line)
		if msg == "" {
			if _, dup := v.ids[r]; dup {
				msg = fmt.Sprintf("duplicate token %q (first on line %d)", r, v.ids[r]+1)
			} else if digitClass && isDigit(r) {
				msg = fmt.Sprintf("digit %q has its own line but the vocabulary maps digits to %s", r, NumToken)
			}
		}
		if msg != "" {
			return nil, &VocabError{Line: lineNo, Msg: msg}
		}
		v.addRune(r)
	}
	return v, nil
}

// parseTokenLine decodes one character-token line; msg says what is wrong with it.
func parseTokenLine(line []byte) (r rune, msg string) {
	if len(line) == 0 {
		return 0, "empty line"
	}
	if !utf8.Valid(line) {
		return 0, "invalid UTF-8"
	}
	s := string(line)
	if len(s) > 1 && s[0] == '[' && s[len(s)-1] == ']' {
		return 0, fmt.Sprintf("%q is not a character token and is not a special in its place", s)
	}
	if s[0] != '\\' {
		r, size := utf8.DecodeRuneInString(s)
		if size != len(s) {
			return 0, fmt.Sprintf("%q is more than one character", s)
		}
		return r, ""
	}
	switch s {
	case `\\`:
		return '\\', ""
	case `\n`:
		return '\n', ""
	case `\r`:
		return '\r', ""
	case `\t`:
		return '\t', ""
	}
	digits := 0
	switch {
	case strings.HasPrefix(s, `\u`):
		digits = 4
	case strings.HasPrefix(s, `\U`):
		digits = 8
	default:
		return 0, fmt.Sprintf("bad escape %q (want \\\\, \\n, \\r, \\t, \\uXXXX or \\UXXXXXXXX)", s)
	}
	if len(s) != 2+digits {
		return 0, fmt.Sprintf("bad escape %q: want %d hex digits", s, digits)
	}
	n, err := strconv.ParseUint(s[2:], 16, 32)
	if err != nil {
		return 0, fmt.Sprintf("bad escape %q: want %d hex digits", s, digits)
	}
	if r = rune(n); !utf8.ValidRune(r) {
		return 0, fmt.Sprintf("bad escape %q: U+%04X is not a valid character", s, n)
	}
	return r, ""
}
