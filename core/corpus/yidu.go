package corpus

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The two Yidu-S4K training files, read in this order from a directory.
var yiduParts = []string{"subtask1_training_part1.txt", "subtask1_training_part2.txt"}

// ReadYidu reads Yidu-S4K (CCKS2019 task 1) training data: path is a directory holding both
// subtask1_training_part{1,2}.txt (read in that order) or one such file. IDs are
// "yidu-part1-<i>" / "yidu-part2-<i>" (i: 1-based index of the non-blank line in its part;
// another file name gives "yidu-<name>-<i>"). Documents with identical texts are reported
// (DATA.md: one document appears twice) and both kept.
func ReadYidu(path string) (*Dataset, error) {
	files := []string{path}
	if fi, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("yidu: %w", err)
	} else if fi.IsDir() {
		files = files[:0]
		for _, p := range yiduParts {
			files = append(files, filepath.Join(path, p))
		}
	}
	ds := &Dataset{Name: "yidu", Report: NewReport()}
	for _, f := range files {
		docs, err := readFileWith(f, func(r io.Reader) ([]Document, error) {
			return ParseYidu(r, f, yiduPrefix(f), ds.Report)
		})
		if err != nil {
			return nil, fmt.Errorf("yidu: %w", err)
		}
		ds.Docs = append(ds.Docs, docs...)
	}
	reportDuplicateTexts(ds.Report, path, ds.Docs)
	return ds, nil
}

// yiduPrefix is the ID prefix for a Yidu file: "yidu-part1" for ..._part1.txt.
func yiduPrefix(file string) string {
	stem := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	if i := strings.LastIndex(stem, "part"); i >= 0 {
		stem = stem[i:]
	}
	return "yidu-" + stem
}

// readFileWith opens file and hands it to parse.
func readFileWith(file string, parse func(io.Reader) ([]Document, error)) ([]Document, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parse(f)
}

// flexInt is a JSON integer that may also be written as a string ("12"); set records presence.
type flexInt struct {
	v   int
	set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not an integer: " + string(b))
	}
	f.v, f.set = v, true
	return nil
}

type yiduLine struct {
	OriginalText *string `json:"originalText"`
	Entities     []struct {
		StartPos  flexInt `json:"start_pos"`
		EndPos    flexInt `json:"end_pos"`
		LabelType string  `json:"label_type"`
	} `json:"entities"`
}

// ParseYidu reads Yidu JSON lines ({"originalText", "entities": [{"start_pos", "end_pos"
// (exclusive), "label_type"}]}, offsets in runes) from r. A leading BOM and CRLF line ends
// are dropped; blank lines are skipped; a line that is not such an object is reported and
// refused but still uses up its index, so IDs stay "<idPrefix>-<index of the line among the
// non-blank lines>".
func ParseYidu(r io.Reader, file, idPrefix string, rep *Report) ([]Document, error) {
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
		var y yiduLine
		if err := json.Unmarshal([]byte(line), &y); err != nil || y.OriginalText == nil {
			if err == nil {
				err = errors.New("no originalText")
			}
			rep.Add(Problem{File: file, Line: lr.line, DocID: id, Kind: KindMalformedLine, Detail: err.Error(),
				Action: "refused: line skipped"})
			continue
		}
		raws := make([]rawEntity, 0, len(y.Entities))
		for _, e := range y.Entities {
			if !e.StartPos.set || !e.EndPos.set {
				rep.Add(Problem{File: file, Line: lr.line, DocID: id, Kind: KindMalformedLine,
					Detail: fmt.Sprintf("entity %q without start_pos or end_pos", e.LabelType), Action: "refused: entity skipped"})
				continue
			}
			raws = append(raws, rawEntity{start: e.StartPos.v, end: e.EndPos.v, typ: e.LabelType, line: lr.line})
		}
		text := *y.OriginalText
		docs = append(docs, Document{ID: id, Text: text, Entities: c.entities(id, []rune(text), raws)})
	}
}
