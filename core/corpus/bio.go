package corpus

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// ReadBIO reads a char-level BIO/CoNLL file: one "char tag" per line, blank line between
// documents. IDs are "<idPrefix>-<i>" (i: 1-based document index); an empty idPrefix
// uses the file name without its extension.
func ReadBIO(path, idPrefix string) (*Dataset, error) {
	if idPrefix == "" {
		idPrefix = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	return readBIOFile("bio", path, idPrefix)
}

// ReadCCKS2018 reads the CCKS2018 char-BIO training file: path is the file, or a directory
// holding processed_bio_dekuaa/train.txt or train.txt. IDs are "ccks2018-<i>".
func ReadCCKS2018(path string) (*Dataset, error) {
	if fi, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("ccks2018: %w", err)
	} else if fi.IsDir() {
		p := filepath.Join(path, "processed_bio_dekuaa", "train.txt")
		if _, err := os.Stat(p); err != nil {
			p = filepath.Join(path, "train.txt")
		}
		path = p
	}
	return readBIOFile("ccks2018", path, "ccks2018")
}

func readBIOFile(name, path, idPrefix string) (*Dataset, error) {
	ds := &Dataset{Name: name, Report: NewReport()}
	docs, err := readFileWith(path, func(r io.Reader) ([]Document, error) { return ParseBIO(r, path, idPrefix, ds.Report) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	ds.Docs = docs
	return ds, nil
}

// parseTag splits a tag into its prefix (one of BIESM, or 'O' for "O") and type. Both "-"
// and "_" separate them.
func parseTag(tag string) (prefix byte, typ string, ok bool) {
	if tag == "O" {
		return 'O', "", true
	}
	if len(tag) >= 3 && (tag[1] == '-' || tag[1] == '_') && strings.IndexByte("BIESM", tag[0]) >= 0 {
		return tag[0], tag[2:], true
	}
	return 0, "", false
}

// decodeTags turns a tag sequence into entities (end exclusive) by the repair rules:
// an I-/M-/E- tag that does not continue an entity of its own type starts a new entity
// there; E- and S- end the entity at their rune; a tag that cannot be parsed reads as O.
// Every repair and bad tag goes to issue.
func decodeTags(tags []string, issue func(pos int, kind, detail, action string)) []Entity {
	var ents []Entity
	cur, curType := -1, ""
	closeAt := func(i int) {
		if cur >= 0 {
			ents = append(ents, Entity{Start: cur, End: i, Type: curType})
			cur = -1
		}
	}
	for i, t := range tags {
		p, typ, ok := parseTag(t)
		if !ok {
			issue(i, KindBadTag, fmt.Sprintf("tag %q", t), "refused: read as O")
			closeAt(i)
			continue
		}
		switch p {
		case 'O':
			closeAt(i)
		case 'B':
			closeAt(i)
			cur, curType = i, typ
		case 'S':
			closeAt(i)
			ents = append(ents, Entity{Start: i, End: i + 1, Type: typ})
		default: // I, M, E
			if cur < 0 || curType != typ {
				after := "O"
				if cur >= 0 {
					after = "an entity of type " + curType
				}
				issue(i, KindBIORepair, fmt.Sprintf("%s after %s", t, after), "fixed: a new entity starts here")
				closeAt(i)
				cur, curType = i, typ
			}
			if p == 'E' {
				closeAt(i + 1)
			}
		}
	}
	closeAt(len(tags))
	return ents
}

// ParseBIO reads char-level BIO/CoNLL from r: one "token tag" per line, split at the LAST
// ASCII space or tab (the token itself may be Unicode whitespace, or an ASCII space), blank
// lines between documents, tags O, B-/I- (also B_/I_, and BIOES S-/E-/M-). Repairs follow
// decodeTags; a token of several runes is spread over its runes (B→B I…, I/M→I…, E→I… E,
// S→B I… E, O→O…); a line with no separator or an empty token is refused. Problems name
// the line of the tag concerned.
func ParseBIO(r io.Reader, file, idPrefix string, rep *Report) ([]Document, error) {
	lr := newLineReader(r, file, rep)
	c := &checker{rep: rep, file: file, lenient: true}
	var (
		docs  []Document
		runes []rune
		tags  []string
		lines []int
	)
	flush := func() {
		if len(runes) == 0 {
			return
		}
		id := fmt.Sprintf("%s-%d", idPrefix, len(docs)+1)
		ents := decodeTags(tags, func(pos int, kind, detail, action string) {
			rep.Add(Problem{File: file, Line: lines[pos], DocID: id, Kind: kind, Detail: detail, Action: action})
		})
		raws := make([]rawEntity, len(ents))
		for i, e := range ents {
			raws[i] = rawEntity{start: e.Start, end: e.End, typ: e.Type, line: lines[e.Start]}
		}
		docs = append(docs, Document{ID: id, Text: string(runes), Entities: c.entities(id, runes, raws)})
		runes, tags, lines = nil, nil, nil
	}
	for {
		line, ok, err := lr.next()
		if err != nil {
			return docs, err
		}
		if !ok {
			break
		}
		if strings.Trim(line, " \t") == "" {
			flush()
			continue
		}
		line = strings.TrimRight(line, " \t")
		i := strings.LastIndexAny(line, " \t")
		if i <= 0 {
			rep.Add(Problem{File: file, Line: lr.line, Kind: KindMalformedLine,
				Detail: fmt.Sprintf("%q is not \"token tag\"", line), Action: "refused: line skipped"})
			continue
		}
		tok, tag := line[:i], line[i+1:]
		n := utf8.RuneCountInString(tok)
		if n > 1 {
			rep.Add(Problem{File: file, Line: lr.line, Kind: KindMultiRuneToken,
				Detail: fmt.Sprintf("token %q has %d runes", tok, n), Action: "fixed: tag spread over its runes"})
		}
		runes = append(runes, []rune(tok)...)
		tags = append(tags, spreadTag(tag, n)...)
		for range n {
			lines = append(lines, lr.line)
		}
	}
	flush()
	return docs, nil
}

// spreadTag gives the tags of a token of n runes tagged tag (see ParseBIO).
func spreadTag(tag string, n int) []string {
	out := make([]string, n)
	p, typ, ok := parseTag(tag)
	for i := range out {
		switch {
		case !ok || p == 'O' || n == 1:
			out[i] = tag
		case i == 0 && (p == 'B' || p == 'S'):
			out[i] = "B-" + typ
		case i == n-1 && (p == 'E' || p == 'S'):
			out[i] = "E-" + typ
		default:
			out[i] = "I-" + typ
		}
	}
	return out
}

// FromBIO decodes one tag per rune into a Document with Text string(runes) (no ID), by the
// repair rules of decodeTags. It returns how many tags needed repair, and an error when the
// lengths differ or a tag cannot be parsed.
func FromBIO(runes []rune, tags []string) (Document, int, error) {
	if len(runes) != len(tags) {
		return Document{}, 0, fmt.Errorf("corpus: FromBIO: %d runes but %d tags", len(runes), len(tags))
	}
	repaired := 0
	var bad error
	ents := decodeTags(tags, func(pos int, kind, detail, _ string) {
		if kind == KindBadTag && bad == nil {
			bad = fmt.Errorf("corpus: FromBIO: position %d: bad %s", pos, detail)
		}
		repaired++
	})
	if bad != nil {
		return Document{}, 0, bad
	}
	SortEntities(ents)
	return Document{Text: string(runes), Entities: ents}, repaired, nil
}

// ToBIO tags doc's runes B-type/I-type/O (separator "-"). BIO cannot hold nested or
// overlapping entities, so it keeps the outermost: entities are taken longest first (ties:
// earlier start, then type name) and one overlapping an already kept entity is dropped, as
// is one outside the text or empty. changed is the number of entities dropped, for callers
// to report.
func ToBIO(doc Document) (tags []string, changed int) {
	runes := []rune(doc.Text)
	tags = make([]string, len(runes))
	for i := range tags {
		tags[i] = "O"
	}
	ents := slices.Clone(doc.Entities)
	slices.SortFunc(ents, func(a, b Entity) int {
		if la, lb := a.End-a.Start, b.End-b.Start; la != lb {
			return lb - la
		}
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return strings.Compare(a.Type, b.Type)
	})
	for _, e := range ents {
		if e.Start < 0 || e.End > len(runes) || e.Start >= e.End || e.Type == "" || !allO(tags[e.Start:e.End]) {
			changed++
			continue
		}
		tags[e.Start] = "B-" + e.Type
		for i := e.Start + 1; i < e.End; i++ {
			tags[i] = "I-" + e.Type
		}
	}
	return tags, changed
}

func allO(tags []string) bool {
	for _, t := range tags {
		if t != "O" {
			return false
		}
	}
	return true
}
