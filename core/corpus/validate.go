package corpus

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// bom is the UTF-8 byte order mark; readers drop it at the start of a file.
const bom = "\uFEFF"

// SortEntities sorts entities in place into the canonical order every reader and writer uses:
// by Start, then longer (outer) first, then by Type.
func SortEntities(ents []Entity) {
	slices.SortFunc(ents, func(a, b Entity) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		if a.End != b.End {
			return b.End - a.End
		}
		return strings.Compare(a.Type, b.Type)
	})
}

// rawEntity is an entity as a reader found it, before validation.
type rawEntity struct {
	start, end int    // as written in the source
	inclusive  bool   // the source's end offset is inclusive
	typ        string // entity type
	mention    string // the mention text the source gives, if hasMention
	hasMention bool
	line       int // source line, for the report
}

func (e rawEntity) String() string {
	s := fmt.Sprintf("(%d,%d,%s)", e.start, e.end, e.typ)
	if e.hasMention {
		s += fmt.Sprintf(" %q", e.mention)
	}
	return s
}

// checker validates and repairs the entities of one file by the documented rules, reporting
// every change and refusal.
type checker struct {
	rep     *Report
	file    string
	lenient bool // apply the repair rules (dataset readers); false: exact checks only (our JSON lines)
}

func (c *checker) add(line int, docID, kind, detail, action string) {
	c.rep.Add(Problem{File: c.file, Line: line, DocID: docID, Kind: kind, Detail: detail, Action: action})
}

// entities turns raw entities into validated, deduplicated, sorted entities of text runes.
func (c *checker) entities(docID string, runes []rune, raws []rawEntity) []Entity {
	seen := make(map[Entity]bool, len(raws))
	out := make([]Entity, 0, len(raws))
	for _, re := range raws {
		s, e, ok := c.span(docID, runes, re)
		if !ok {
			continue
		}
		if c.lenient {
			ts, te := trimSpan(runes, s, e)
			if ts == te {
				c.add(re.line, docID, KindBlankSpan, re.String(), "refused: the span is whitespace only")
				continue
			}
			if ts != s || te != e {
				c.add(re.line, docID, KindWhitespaceEdge, fmt.Sprintf("%s %q", re, string(runes[s:e])),
					fmt.Sprintf("fixed: trimmed surrounding whitespace to [%d,%d)", ts, te))
				s, e = ts, te
			}
		}
		ent := Entity{Start: s, End: e, Type: re.typ}
		if seen[ent] {
			c.add(re.line, docID, KindDuplicateEntity, re.String(), "refused: same start, end and type already kept")
			continue
		}
		seen[ent] = true
		out = append(out, ent)
	}
	SortEntities(out)
	return out
}

// span checks one raw entity's offsets (and mention) against the text, returning the
// exclusive-end span to keep, or ok=false when it was refused (and reported).
func (c *checker) span(docID string, runes []rune, re rawEntity) (s, e int, ok bool) {
	n := len(runes)
	s, e = re.start, re.end
	switch {
	case re.typ == "":
		c.add(re.line, docID, KindEmptyType, re.String(), "refused: no type")
		return 0, 0, false
	case s < 0 || e < 0 || s > n || e > n:
		c.add(re.line, docID, KindOutOfRange, fmt.Sprintf("%s, text has %d runes", re, n), "refused: offset outside the text")
		return 0, 0, false
	}
	if re.inclusive {
		e++
	}
	switch {
	case e == s:
		c.add(re.line, docID, KindEmptySpan, re.String(), "refused: empty span (no text to annotate)")
		return 0, 0, false
	case e < s:
		lo, hi := e, s
		if re.inclusive {
			lo, hi = e-1, s+1
		}
		if hi > n {
			c.add(re.line, docID, KindReversedSpan, re.String(), "refused: start > end, and the swapped span leaves the text")
			return 0, 0, false
		}
		if !re.hasMention || !c.lenient {
			why := "refused: start > end and no mention text to verify a swap"
			if !c.lenient {
				why = "refused: start > end"
			}
			c.add(re.line, docID, KindReversedSpan, fmt.Sprintf("%s, swapped text %q", re, string(runes[lo:hi])), why)
			return 0, 0, false
		}
		if string(runes[lo:hi]) != re.mention {
			c.add(re.line, docID, KindReversedSpan, fmt.Sprintf("%s, swapped text %q", re, string(runes[lo:hi])),
				"refused: start > end and the swapped span does not match the mention")
			return 0, 0, false
		}
		c.add(re.line, docID, KindReversedSpan, re.String(), fmt.Sprintf("fixed: swapped to [%d,%d), whose text matches the mention", lo, hi))
		s, e = lo, hi
	case e > n:
		c.add(re.line, docID, KindOutOfRange, fmt.Sprintf("%s, text has %d runes", re, n), "refused: end outside the text")
		return 0, 0, false
	}
	if !re.hasMention {
		return s, e, true
	}
	got := string(runes[s:e])
	if got == re.mention {
		return s, e, true
	}
	detail := fmt.Sprintf("%s, text at offsets %q", re, got)
	if !c.lenient {
		c.add(re.line, docID, KindMentionMismatch, detail, "refused: entity text does not match the text at its offsets")
		return 0, 0, false
	}
	if tm := strings.TrimFunc(re.mention, unicode.IsSpace); tm != "" {
		if ts, te := trimSpan(runes, s, e); string(runes[ts:te]) == tm {
			c.add(re.line, docID, KindWhitespaceEdge, detail, fmt.Sprintf("fixed: both trimmed of surrounding whitespace match, span [%d,%d)", ts, te))
			return ts, te, true
		}
	}
	if strings.EqualFold(got, re.mention) {
		c.add(re.line, docID, KindCaseMismatch, detail, "kept: equal ignoring letter case; span unchanged")
		return s, e, true
	}
	m := []rune(re.mention)
	if len(m) == e-s {
		for d := 1; d <= maxShift; d++ {
			for _, ns := range [2]int{s - d, s + d} {
				if ns >= 0 && ns+len(m) <= n && string(runes[ns:ns+len(m)]) == re.mention {
					c.add(re.line, docID, KindShiftedOffset, detail,
						fmt.Sprintf("fixed: moved by %+d to [%d,%d), the nearest exact occurrence", ns-s, ns, ns+len(m)))
					return ns, ns + len(m), true
				}
			}
		}
	}
	c.add(re.line, docID, KindMentionMismatch, detail, "refused: mention text does not match the text at its offsets")
	return 0, 0, false
}

// maxShift is how far (in runes) a mismatching mention is looked for around its offsets.
const maxShift = 2

// trimSpan narrows [s,e) past leading and trailing whitespace runes.
func trimSpan(runes []rune, s, e int) (int, int) {
	for s < e && unicode.IsSpace(runes[s]) {
		s++
	}
	for e > s && unicode.IsSpace(runes[e-1]) {
		e--
	}
	return s, e
}

// fixUTF8 replaces every byte that is not part of valid UTF-8 by U+FFFD, one rune per byte
// (as a Go []rune conversion counts them), so that rune offsets stay aligned.
func fixUTF8(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

// lineReader reads a file line by line with no limit on line length. It drops a leading BOM
// and the line terminator (LF or CRLF), and repairs invalid UTF-8 (reported).
type lineReader struct {
	r    *bufio.Reader
	file string
	rep  *Report
	line int // number of the line last returned
	done bool
}

func newLineReader(r io.Reader, file string, rep *Report) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 1<<16), file: file, rep: rep}
}

// next returns the next line; ok is false at the end of the input.
func (l *lineReader) next() (line string, ok bool, err error) {
	if l.done {
		return "", false, nil
	}
	b, err := l.r.ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, fmt.Errorf("%s:%d: %w", l.file, l.line+1, err)
	}
	if err != nil { // EOF
		l.done = true
		if len(b) == 0 {
			return "", false, nil
		}
	}
	l.line++
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if l.line == 1 {
		b = bytes.TrimPrefix(b, []byte(bom))
	}
	s := string(b)
	if !utf8.ValidString(s) {
		s = fixUTF8(s)
		l.rep.Add(Problem{File: l.file, Line: l.line, Kind: KindInvalidUTF8, Detail: "line is not valid UTF-8",
			Action: "fixed: each invalid byte replaced by U+FFFD"})
	}
	return s, true, nil
}
