package text

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"sort"
	"unicode"
	"unicode/utf8"
)

// WhitespaceMode says what [Normalize] does with whitespace runes.
type WhitespaceMode uint8

const (
	// WhitespaceKeep keeps every whitespace rune (still subject to the width, punctuation and
	// newline steps, which map exotic spaces to ' ' and line separators to '\n').
	WhitespaceKeep WhitespaceMode = iota
	// WhitespaceCollapse replaces each maximal whitespace run by one '\n' (when the run holds
	// a line break) or one ' '.
	WhitespaceCollapse
	// WhitespaceRemove deletes every whitespace rune, newlines included.
	WhitespaceRemove
)

// Options selects the normalisation steps; the package documentation lists their tables.
// The zero value is the identity.
type Options struct {
	FoldWidth     bool // fullwidth ASCII and U+3000 to ASCII, halfwidth CJK punctuation to fullwidth
	UnifyPunct    bool // one canonical rune per punctuation class
	Lower         bool // unicode.ToLower on every rune
	UnifyNewlines bool // "\r\n" to "\n"; lone '\r', U+0085, U+2028, U+2029 to '\n'
	Whitespace    WhitespaceMode
}

// DefaultOptions is the normalisation the taggers are trained and run with: every step on
// and whitespace collapsed, so that width, punctuation and case variants of one character
// share one vocabulary id while line ends survive for the sentence splitter.
func DefaultOptions() Options {
	return Options{
		FoldWidth:     true,
		UnifyPunct:    true,
		Lower:         true,
		UnifyNewlines: true,
		Whitespace:    WhitespaceCollapse,
	}
}

// InvalidUTF8Error reports input that is not valid UTF-8.
type InvalidUTF8Error struct {
	Offset int // byte offset of the first byte that does not start a valid encoding
}

func (e *InvalidUTF8Error) Error() string {
	return fmt.Sprintf("text: invalid UTF-8 at byte offset %d", e.Offset)
}

// Normalized is a normalised text with the map back to the original it came from.
// Text and Runes hold the same normalised text; do not modify Runes.
type Normalized struct {
	Text  string
	Runes []rune

	orig      string
	origRunes int     // rune count of orig
	origRune  []int32 // origRune[i]: original rune index of normalised rune i
	origByte  []int32 // origByte[i]: original byte offset of normalised rune i
}

// Normalize normalises s as opt says and records, for every normalised rune, the original
// rune it came from. It fails only on invalid UTF-8 (an *InvalidUTF8Error), on an unknown
// whitespace mode, and on inputs of 2 GiB or more (offsets are stored as int32 so the map
// costs 12 bytes per rune with the rune itself).
func Normalize(s string, opt Options) (*Normalized, error) {
	if opt.Whitespace > WhitespaceRemove {
		return nil, fmt.Errorf("text: unknown whitespace mode %d", opt.Whitespace)
	}
	if len(s) > math.MaxInt32 {
		return nil, fmt.Errorf("text: input of %d bytes exceeds the %d-byte limit", len(s), math.MaxInt32)
	}
	n := runeCountBound(s)
	b := &normBuilder{
		s:        s,
		runes:    make([]rune, 0, n),
		origRune: make([]int32, 0, n),
		origByte: make([]int32, 0, n),
		runIdx:   -1,
		breakIdx: -1,
	}
	idx := 0
	for i := 0; i < len(s); idx++ {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, &InvalidUTF8Error{Offset: i}
			}
		}
		off := i
		i += size

		// CJK ideographs, most of clinical text, are neither space nor in any table.
		if r >= 0x3400 && r <= 0x9FFF {
			if b.runIdx >= 0 {
				b.flushRun()
			}
			b.keep(r, idx, off)
			continue
		}
		if !isSpace(r) {
			if b.runIdx >= 0 {
				b.flushRun()
			}
			b.emit(opt.mapRune(r), r, idx, off, i)
			continue
		}
		switch opt.Whitespace {
		case WhitespaceRemove:
			b.drop(off, i)
		case WhitespaceCollapse:
			b.drop(off, i)
			if b.runIdx < 0 {
				b.runIdx, b.runByte = idx, off
			}
			// The '\n' of a "\r\n" stands for the break rather than its '\r'.
			if isLineBreak(r) && (b.breakIdx < 0 || r == '\n' && b.breakIdx == idx-1 && s[b.breakByte] == '\r') {
				b.breakIdx, b.breakByte = idx, off
			}
		default:
			m := r
			if opt.UnifyNewlines {
				if r == '\r' && i < len(s) && s[i] == '\n' {
					b.drop(off, i)
					continue
				}
				if isLineBreak(r) {
					m = '\n'
				}
			}
			b.emit(opt.mapRune(m), r, idx, off, i)
		}
	}
	if b.runIdx >= 0 {
		b.flushRun()
	}
	return &Normalized{
		Text:      b.finish(),
		Runes:     b.runes,
		orig:      s,
		origRunes: idx,
		origRune:  b.origRune,
		origByte:  b.origByte,
	}, nil
}

// runeCountBound is the number of bytes of s that do not continue a UTF-8 sequence: the
// rune count of valid UTF-8, found without decoding, to size the output exactly. It reads
// eight bytes at a time because it is a pass over the whole input.
func runeCountBound(s string) int {
	n := len(s)
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		// A continuation byte is 10xxxxxx: its top bit set and the next one clear.
		n -= bits.OnesCount64(w &^ (w << 1) & 0x8080808080808080)
	}
	for ; i < len(s); i++ {
		if s[i]&0xC0 == 0x80 {
			n--
		}
	}
	return n
}

// normBuilder accumulates the output of Normalize. The text is copied from the original
// in whole stretches of unchanged runes: clinical text is mostly left as it is.
type normBuilder struct {
	s        string
	text     []byte
	copied   int // s[copied:] is not yet accounted for in text
	runes    []rune
	origRune []int32
	origByte []int32

	// The pending whitespace run (WhitespaceCollapse): its first rune and its first line
	// break, whose positions the rune standing for the run takes when the run ends.
	runIdx, runByte     int
	breakIdx, breakByte int
}

// emit records r, mapped from the original rune orig at rune idx and bytes [off, end).
func (b *normBuilder) emit(r, orig rune, idx, off, end int) {
	if r != orig {
		b.drop(off, end)
		b.text = utf8.AppendRune(b.text, r)
	}
	b.keep(r, idx, off)
}

// keep records r, whose bytes are the text's already, at original rune idx and byte off.
func (b *normBuilder) keep(r rune, idx, off int) {
	b.runes = append(b.runes, r)
	b.origRune = append(b.origRune, int32(idx))
	b.origByte = append(b.origByte, int32(off))
}

// drop leaves the original bytes [off, end) out of the text.
func (b *normBuilder) drop(off, end int) {
	if b.text == nil {
		b.text = make([]byte, 0, len(b.s))
	}
	b.text = append(b.text, b.s[b.copied:off]...)
	b.copied = end
}

// flushRun emits the rune standing for a whitespace run, whose runes were all dropped.
func (b *normBuilder) flushRun() {
	r, idx, off := ' ', b.runIdx, b.runByte
	if b.breakIdx >= 0 {
		r, idx, off = '\n', b.breakIdx, b.breakByte
	}
	b.text = utf8.AppendRune(b.text, r)
	b.keep(r, idx, off)
	b.runIdx, b.breakIdx = -1, -1
}

func (b *normBuilder) finish() string {
	if b.text == nil {
		return b.s
	}
	return string(append(b.text, b.s[b.copied:]...))
}

// mapRune applies the one-to-one steps (width, punctuation, case) to one rune.
func (opt *Options) mapRune(r rune) rune {
	if r < utf8.RuneSelf {
		if opt.Lower && r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	if opt.FoldWidth {
		r = foldWidth(r)
	}
	if opt.UnifyPunct {
		r = unifyPunct(r)
	}
	if opt.Lower {
		r = unicode.ToLower(r)
	}
	return r
}

func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || r >= '\t' && r <= '\r'
	}
	return unicode.IsSpace(r)
}

func isLineBreak(r rune) bool {
	return r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029
}

// OriginalRunes maps the normalised rune span [start, end) to the original rune span
// holding the same characters (see the package documentation for deleted runes and empty
// spans). Like slicing, it panics unless 0 <= start <= end <= len(n.Runes).
func (n *Normalized) OriginalRunes(start, end int) (int, int) {
	n.checkSpan(start, end)
	if start == end {
		p := n.origRunes
		if start < len(n.origRune) {
			p = int(n.origRune[start])
		}
		return p, p
	}
	return int(n.origRune[start]), int(n.origRune[end-1]) + 1
}

// OriginalBytes is OriginalRunes in UTF-8 byte offsets of the original string, so that
// original[s:e] is the text of the span.
func (n *Normalized) OriginalBytes(start, end int) (int, int) {
	n.checkSpan(start, end)
	if start == end {
		p := len(n.orig)
		if start < len(n.origByte) {
			p = int(n.origByte[start])
		}
		return p, p
	}
	last := int(n.origByte[end-1])
	_, size := utf8.DecodeRuneInString(n.orig[last:])
	return int(n.origByte[start]), last + size
}

// ToNormalized maps the original rune span [origStart, origEnd) to the normalised span of
// the runes whose originals lie inside it; deleted runes at its edges are dropped, so
// ToNormalized(n.OriginalRunes(s, e)) == (s, e) for every non-empty span. It panics unless
// 0 <= origStart <= origEnd <= the original rune count.
func (n *Normalized) ToNormalized(origStart, origEnd int) (int, int) {
	if origStart < 0 || origStart > origEnd || origEnd > n.origRunes {
		panic(fmt.Sprintf("text: original span [%d, %d) out of range [0, %d]", origStart, origEnd, n.origRunes))
	}
	at := func(p int) int {
		return sort.Search(len(n.origRune), func(i int) bool { return int(n.origRune[i]) >= p })
	}
	return at(origStart), at(origEnd)
}

func (n *Normalized) checkSpan(start, end int) {
	if start < 0 || start > end || end > len(n.Runes) {
		panic(fmt.Sprintf("text: normalised span [%d, %d) out of range [0, %d]", start, end, len(n.Runes)))
	}
}
