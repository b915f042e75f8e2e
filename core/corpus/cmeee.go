package corpus

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ReadCMeEE reads CMeEE (CHIP2020 task 1): path is train_data.txt (or another file in its
// format) or a directory holding train_data.txt.
func ReadCMeEE(path string) (*Dataset, error) {
	if fi, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("cmeee: %w", err)
	} else if fi.IsDir() {
		path = filepath.Join(path, "train_data.txt")
	}
	ds := &Dataset{Name: "cmeee", Report: NewReport()}
	docs, err := readFileWith(path, func(r io.Reader) ([]Document, error) { return ParseCMeEE(r, path, ds.Report) })
	if err != nil {
		return nil, fmt.Errorf("cmeee: %w", err)
	}
	ds.Docs = docs
	reportDuplicateTexts(ds.Report, path, ds.Docs)
	return ds, nil
}

// ParseCMeEE reads CMeEE lines "text|||start end type|||...|||" (fields separated by runs of
// whitespace, 0-based offsets, end inclusive) from r. A line without "|||" is an unlabeled
// text. IDs are "cmeee-<line number>"; blank lines are skipped.
func ParseCMeEE(r io.Reader, file string, rep *Report) ([]Document, error) {
	lr := newLineReader(r, file, rep)
	c := &checker{rep: rep, file: file, lenient: true}
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
		id := fmt.Sprintf("cmeee-%d", lr.line)
		parts := strings.Split(line, "|||")
		var raws []rawEntity
		for _, p := range parts[1:] {
			if strings.TrimSpace(p) == "" {
				continue
			}
			re, err := parseCMeEEEntity(p)
			if err != nil {
				rep.Add(Problem{File: file, Line: lr.line, DocID: id, Kind: KindMalformedLine,
					Detail: fmt.Sprintf("annotation %q: %v", p, err), Action: "refused: entity skipped"})
				continue
			}
			re.line = lr.line
			raws = append(raws, re)
		}
		docs = append(docs, Document{ID: id, Text: parts[0], Entities: c.entities(id, []rune(parts[0]), raws)})
	}
}

func parseCMeEEEntity(p string) (rawEntity, error) {
	f := strings.Fields(p)
	if len(f) != 3 {
		return rawEntity{}, fmt.Errorf("want start, end and type, got %d fields", len(f))
	}
	start, err := strconv.Atoi(f[0])
	if err != nil {
		return rawEntity{}, fmt.Errorf("start: %w", err)
	}
	end, err := strconv.Atoi(f[1])
	if err != nil {
		return rawEntity{}, fmt.Errorf("end: %w", err)
	}
	return rawEntity{start: start, end: end, inclusive: true, typ: f[2]}, nil
}
