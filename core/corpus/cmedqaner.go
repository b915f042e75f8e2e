package corpus

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// ReadCMedQANER reads one split of cMedQANER (ChineseBLUE). path is the dataset directory
// with split one of train, dev, test (reading <split>.json), or a .json or .txt file (split
// then must be "" or match the file name). The JSON lines file is authoritative: it keeps
// nested entities and gives each mention's text. When the .txt (char BIO) twin is present
// beside a .json, the two are cross-checked and disagreements the BIO cannot explain are
// reported. IDs are "cmedqaner-<split>-<i>".
func ReadCMedQANER(path, split string) (*Dataset, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cmedqaner: %w", err)
	}
	if fi.IsDir() {
		switch split {
		case "train", "dev", "test":
		default:
			return nil, fmt.Errorf("cmedqaner: split %q: want train, dev or test", split)
		}
		path = filepath.Join(path, split+".json")
	} else {
		ext := filepath.Ext(path)
		stem := strings.TrimSuffix(filepath.Base(path), ext)
		if split != "" && split != stem {
			return nil, fmt.Errorf("cmedqaner: split %q does not match file %s", split, path)
		}
		split = stem
		if ext == ".txt" {
			return readBIOFile("cmedqaner", path, "cmedqaner-"+split)
		}
	}
	prefix := "cmedqaner-" + split
	ds := &Dataset{Name: "cmedqaner", Report: NewReport()}
	docs, err := readFileWith(path, func(r io.Reader) ([]Document, error) {
		return ParseCMedQANERJSON(r, path, prefix, ds.Report)
	})
	if err != nil {
		return nil, fmt.Errorf("cmedqaner: %w", err)
	}
	ds.Docs = docs
	twin := strings.TrimSuffix(path, filepath.Ext(path)) + ".txt"
	if _, err := os.Stat(twin); err == nil {
		bio, err := readBIOFile("cmedqaner", twin, prefix)
		if err != nil {
			return nil, fmt.Errorf("cmedqaner: %w", err)
		}
		crossCheck(ds.Report, twin, ds.Docs, bio)
	}
	reportDuplicateTexts(ds.Report, path, ds.Docs)
	return ds, nil
}

type cmedqanerLine struct {
	Text        *string `json:"text"`
	MentionData []struct {
		Mention *string `json:"mention"`
		Type    string  `json:"type"`
		Label   string  `json:"label"`
		Offset  flexInt `json:"offset"`
	} `json:"mention_data"`
}

// ParseCMedQANERJSON reads cMedQANER JSON lines {"text", "mention_data": [{"mention",
// "type" or "label", "offset"}]} from r. offset (a string in the data, a number accepted
// too) is the mention's first rune; its end is offset + the mention's rune count.
// IDs are "<idPrefix>-<i>" (i: index among non-blank lines).
func ParseCMedQANERJSON(r io.Reader, file, idPrefix string, rep *Report) ([]Document, error) {
	lr := newLineReader(r, file, rep)
	c := &checker{rep: rep, file: file, lenient: true}
	var docs []Document
	for i := 0; ; {
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
		i++
		id := fmt.Sprintf("%s-%d", idPrefix, i)
		var q cmedqanerLine
		if err := json.Unmarshal([]byte(line), &q); err != nil || q.Text == nil {
			if err == nil {
				err = errors.New("no text")
			}
			rep.Add(Problem{File: file, Line: lr.line, DocID: id, Kind: KindMalformedLine, Detail: err.Error(),
				Action: "refused: line skipped"})
			continue
		}
		raws := make([]rawEntity, 0, len(q.MentionData))
		for _, m := range q.MentionData {
			typ := m.Type
			if typ == "" {
				typ = m.Label
			}
			if m.Mention == nil || *m.Mention == "" || !m.Offset.set {
				rep.Add(Problem{File: file, Line: lr.line, DocID: id, Kind: KindMalformedLine,
					Detail: fmt.Sprintf("mention of type %q without mention text or offset", typ), Action: "refused: entity skipped"})
				continue
			}
			raws = append(raws, rawEntity{start: m.Offset.v, end: m.Offset.v + utf8.RuneCountInString(*m.Mention),
				typ: typ, mention: *m.Mention, hasMention: true, line: lr.line})
		}
		docs = append(docs, Document{ID: id, Text: *q.Text, Entities: c.entities(id, []rune(*q.Text), raws)})
	}
}

// crossCheck compares the authoritative JSON documents with their BIO twin, document by
// document. A BIO that holds a subset of the JSON entities, leaving out only entities that
// overlap one it holds, is what BIO can express and agrees; anything else is reported.
func crossCheck(rep *Report, twin string, docs []Document, bio *Dataset) {
	if n := len(bio.Report.Problems); n > 0 {
		rep.Add(Problem{File: twin, Kind: KindCrossCheck, Detail: fmt.Sprintf("the BIO twin has %d problems of its own: %s",
			n, strings.ReplaceAll(bio.Report.Summary(), "\n", ", ")), Action: "kept: the JSON file is authoritative"})
	}
	if len(docs) != len(bio.Docs) {
		rep.Add(Problem{File: twin, Kind: KindCrossCheck, Detail: fmt.Sprintf("%d JSON documents, %d BIO documents", len(docs), len(bio.Docs)),
			Action: "kept: the JSON file is authoritative"})
	}
	for i := range min(len(docs), len(bio.Docs)) {
		d, b := docs[i], bio.Docs[i]
		if d.Text != b.Text {
			rep.Add(Problem{File: twin, DocID: d.ID, Kind: KindCrossCheck, Detail: "texts differ", Action: "kept: the JSON file is authoritative"})
			continue
		}
		inJSON := make(map[Entity]bool, len(d.Entities))
		for _, e := range d.Entities {
			inJSON[e] = true
		}
		inBIO := make(map[Entity]bool, len(b.Entities))
		var onlyBIO, onlyJSON []string
		for _, e := range b.Entities {
			inBIO[e] = true
			if !inJSON[e] {
				onlyBIO = append(onlyBIO, entityString(d.Text, e))
			}
		}
		for _, e := range d.Entities {
			if !inBIO[e] && !overlapsAny(e, b.Entities) {
				onlyJSON = append(onlyJSON, entityString(d.Text, e))
			}
		}
		if len(onlyBIO)+len(onlyJSON) > 0 {
			rep.Add(Problem{File: twin, DocID: d.ID, Kind: KindCrossCheck,
				Detail: fmt.Sprintf("only in JSON: %s; only in BIO: %s", listOrNone(onlyJSON), listOrNone(onlyBIO)),
				Action: "kept: the JSON file is authoritative"})
		}
	}
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, " ")
}

func overlapsAny(e Entity, ents []Entity) bool {
	for _, o := range ents {
		if o.Start < e.End && e.Start < o.End {
			return true
		}
	}
	return false
}

// entityString renders an entity of text for reports: [start,end)type"mention".
func entityString(text string, e Entity) string {
	r := []rune(text)
	m := ""
	if e.Start >= 0 && e.Start <= e.End && e.End <= len(r) {
		m = string(r[e.Start:e.End])
	}
	return fmt.Sprintf("[%d,%d)%s%q", e.Start, e.End, e.Type, m)
}
