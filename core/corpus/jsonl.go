package corpus

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
)

// ReadJSONL reads bingli's own JSON lines format (see ParseJSONL) from a file.
func ReadJSONL(path string) (*Dataset, error) {
	ds := &Dataset{Name: "jsonl", Report: NewReport()}
	docs, err := readFileWith(path, func(r io.Reader) ([]Document, error) { return ParseJSONL(r, path, ds.Report) })
	if err != nil {
		return nil, fmt.Errorf("jsonl: %w", err)
	}
	ds.Docs = docs
	return ds, nil
}

type jsonlLine struct {
	ID       *string `json:"id"`
	Text     *string `json:"text"`
	Entities []struct {
		Start *int    `json:"start"`
		End   *int    `json:"end"`
		Type  string  `json:"type"`
		Text  *string `json:"text"`
	} `json:"entities"`
}

// ParseJSONL reads one Document per line, {"id", "text", "entities": [{"start", "end",
// "type"}]} (rune offsets, end exclusive). It also takes the tagger's output lines, whose
// entities carry "text" and "confidence" and which have no document "text": the Document's
// Text is then "" and only start < end is checked. Where both texts are present the entity's
// must equal the document's text at its offsets. No repair rule applies here: a bad entity is
// refused, a bad line skipped; a missing id becomes "<file name>-<line>"; repeated ids are
// reported and kept. "confidence" is not kept.
func ParseJSONL(r io.Reader, file string, rep *Report) ([]Document, error) {
	lr := newLineReader(r, file, rep)
	c := &checker{rep: rep, file: file}
	stem := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	seen := map[string]bool{}
	var docs []Document
	for {
		line, ok, err := lr.next()
		if err != nil {
			return docs, err
		}
		if !ok {
			return docs, nil
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		var j jsonlLine
		if err := json.Unmarshal([]byte(line), &j); err != nil {
			rep.Add(Problem{File: file, Line: lr.line, Kind: KindMalformedLine, Detail: err.Error(), Action: "refused: line skipped"})
			continue
		}
		var doc Document
		if j.ID != nil {
			doc.ID = *j.ID
		} else {
			doc.ID = fmt.Sprintf("%s-%d", stem, lr.line)
			rep.Add(Problem{File: file, Line: lr.line, DocID: doc.ID, Kind: KindMissingID, Detail: "no id",
				Action: "fixed: id made from the file name and line number"})
		}
		if seen[doc.ID] {
			rep.Add(Problem{File: file, Line: lr.line, DocID: doc.ID, Kind: KindDuplicateID, Detail: "id used by an earlier line",
				Action: "kept: both documents kept"})
		}
		seen[doc.ID] = true
		raws := make([]rawEntity, 0, len(j.Entities))
		for _, e := range j.Entities {
			if e.Start == nil || e.End == nil {
				rep.Add(Problem{File: file, Line: lr.line, DocID: doc.ID, Kind: KindMalformedLine,
					Detail: fmt.Sprintf("entity %q without start or end", e.Type), Action: "refused: entity skipped"})
				continue
			}
			re := rawEntity{start: *e.Start, end: *e.End, typ: e.Type, line: lr.line}
			if e.Text != nil {
				re.mention, re.hasMention = *e.Text, true
			}
			raws = append(raws, re)
		}
		if j.Text != nil {
			doc.Text = *j.Text
			doc.Entities = c.entities(doc.ID, []rune(doc.Text), raws)
		} else {
			doc.Entities = c.textless(doc.ID, raws)
		}
		docs = append(docs, doc)
	}
}

// textless checks entities of a document whose text is unknown: type present, 0 <= start <
// end, no duplicates.
func (c *checker) textless(docID string, raws []rawEntity) []Entity {
	seen := make(map[Entity]bool, len(raws))
	out := make([]Entity, 0, len(raws))
	for _, re := range raws {
		ent := Entity{Start: re.start, End: re.end, Type: re.typ}
		switch {
		case re.typ == "":
			c.add(re.line, docID, KindEmptyType, re.String(), "refused: no type")
		case re.start < 0:
			c.add(re.line, docID, KindOutOfRange, re.String(), "refused: negative offset")
		case re.start == re.end:
			c.add(re.line, docID, KindEmptySpan, re.String(), "refused: empty span (no text to annotate)")
		case re.start > re.end:
			c.add(re.line, docID, KindReversedSpan, re.String(), "refused: start > end")
		case seen[ent]:
			c.add(re.line, docID, KindDuplicateEntity, re.String(), "refused: same start, end and type already kept")
		default:
			seen[ent] = true
			out = append(out, ent)
		}
	}
	SortEntities(out)
	return out
}

// WriteJSONL writes one Document per line in ParseJSONL's format, entities in SortEntities
// order (docs are not modified).
func WriteJSONL(w io.Writer, docs []Document) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, d := range docs {
		d.Entities = slices.Clone(d.Entities)
		SortEntities(d.Entities)
		if err := enc.Encode(d); err != nil {
			return fmt.Errorf("corpus: write JSON lines, document %s: %w", d.ID, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("corpus: write JSON lines: %w", err)
	}
	return nil
}
