package corpus

import (
	"fmt"
	"sort"
	"strings"
)

// Problem kinds. Every entity or line a reader drops or changes is reported under one of these.
const (
	KindMalformedLine     = "malformed-line"     // a line or record that cannot be parsed at all
	KindInvalidUTF8       = "invalid-utf8"       // bytes that are not UTF-8
	KindOutOfRange        = "out-of-range"       // an offset outside the text
	KindEmptySpan         = "empty-span"         // start == end (exclusive end)
	KindReversedSpan      = "reversed-span"      // start > end
	KindEmptyType         = "empty-type"         // an entity without a type
	KindMentionMismatch   = "mention-mismatch"   // the given mention text differs from the text at its offsets
	KindCaseMismatch      = "case-mismatch"      // ... but only in letter case
	KindShiftedOffset     = "shifted-offset"     // ... but it occurs a few runes away
	KindWhitespaceEdge    = "whitespace-edge"    // a span that starts or ends with whitespace
	KindBlankSpan         = "blank-span"         // a span of whitespace only
	KindDuplicateEntity   = "duplicate-entity"   // the same (start, end, type) twice in one document
	KindDuplicateText     = "duplicate-text"     // two documents with the same text
	KindDuplicateID       = "duplicate-id"       // two documents with the same ID
	KindMissingID         = "missing-id"         // a JSON lines document without an id
	KindBIORepair         = "bio-repair"         // I-/M-/E- that does not continue an entity of its type
	KindBadTag            = "bad-tag"            // a tag that is neither O nor PREFIX-type
	KindMultiRuneToken    = "multi-rune-token"   // a BIO token of several runes
	KindMissingAnnotation = "missing-annotation" // a CCKS2017 text without its annotation file
	KindMissingSection    = "missing-section"    // a CCKS2017 document N without one of the sections
	KindUnexpectedFile    = "unexpected-file"    // a file that does not belong to the layout
	KindCrossCheck        = "cross-check"        // two copies of the same data disagree
)

// Problem is one thing a reader found wrong with its input, and what it did about it.
// Action is "fixed: <rule>" (the data was changed by a documented rule), "refused: <why>"
// (the entity, line or file was left out) or "kept: <why>" (reported, nothing changed).
type Problem struct {
	File   string // the file it was found in
	Line   int    // 1-based line in File, 0 when the problem is not tied to a line
	DocID  string // the document concerned, "" when none
	Kind   string // one of the Kind constants
	Detail string
	Action string
}

func (p Problem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	doc := ""
	if p.DocID != "" {
		doc = " [" + p.DocID + "]"
	}
	return fmt.Sprintf("%s%s: %s: %s; %s", loc, doc, p.Kind, p.Detail, p.Action)
}

// Report collects the problems of one read, with counts per kind.
type Report struct {
	Problems []Problem
	Counts   map[string]int // problems per Kind
}

// NewReport returns an empty report.
func NewReport() *Report { return &Report{Counts: map[string]int{}} }

// Add records one problem.
func (r *Report) Add(p Problem) {
	r.Problems = append(r.Problems, p)
	r.Counts[p.Kind]++
}

// Summary is one line per kind, "kind: count", in kind order; "no problems" when empty.
func (r *Report) Summary() string {
	if len(r.Problems) == 0 {
		return "no problems"
	}
	kinds := make([]string, 0, len(r.Counts))
	for k := range r.Counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var b strings.Builder
	for i, k := range kinds {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s: %d", k, r.Counts[k])
	}
	return b.String()
}

// Dataset is the result of reading one data set: its documents in file order and what was
// found wrong on the way.
type Dataset struct {
	Name   string
	Docs   []Document
	Report *Report
}
