package corpus

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	ccks2017TextSuffix = ".txtoriginal.txt"
	ccks2017AnnSuffix  = ".txt"
)

// ReadCCKS2017 reads the labeled CCKS2017 CNER layout: path is the dataset root (holding
// Train/) or the Train directory itself, whose section directories hold
// <section>-N.txtoriginal.txt texts and <section>-N.txt annotations. One Document per text,
// ID "<section>-N", ordered by N and then section name.
func ReadCCKS2017(path string) (*Dataset, error) {
	return readCCKS2017Layout("ccks2017", path, "Train", true)
}

// ReadCCKS2017Unlabeled reads the CCKS2017 Test layout (texts only): path is the dataset root
// (holding Test/) or the Test directory. Annotation files there are reported and ignored.
func ReadCCKS2017Unlabeled(path string) (*Dataset, error) {
	return readCCKS2017Layout("ccks2017-unlabeled", path, "Test", false)
}

type ccks2017Item struct {
	n                 int
	section, id       string
	textPath, annPath string
}

func readCCKS2017Layout(name, path, sub string, labeled bool) (*Dataset, error) {
	dir := path
	if fi, err := os.Stat(filepath.Join(path, sub)); err == nil && fi.IsDir() {
		dir = filepath.Join(path, sub)
	}
	sections, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", name, dir, err)
	}
	rep := NewReport()
	unexpected := func(p, why string) {
		rep.Add(Problem{File: p, Kind: KindUnexpectedFile, Detail: why, Action: "refused: ignored"})
	}
	var items []ccks2017Item
	for _, sec := range sections {
		secPath := filepath.Join(dir, sec.Name())
		if !sec.IsDir() {
			unexpected(secPath, "a file beside the section directories")
			continue
		}
		files, err := os.ReadDir(secPath)
		if err != nil {
			return nil, fmt.Errorf("%s: read %s: %w", name, secPath, err)
		}
		texts, anns := map[string]string{}, map[string]string{}
		for _, f := range files {
			p := filepath.Join(secPath, f.Name())
			switch {
			case f.IsDir():
				unexpected(p, "a directory inside a section directory")
			case strings.HasSuffix(f.Name(), ccks2017TextSuffix):
				texts[strings.TrimSuffix(f.Name(), ccks2017TextSuffix)] = p
			case strings.HasSuffix(f.Name(), ccks2017AnnSuffix) && labeled:
				anns[strings.TrimSuffix(f.Name(), ccks2017AnnSuffix)] = p
			case strings.HasSuffix(f.Name(), ccks2017AnnSuffix):
				unexpected(p, "an annotation file in an unlabeled read")
			default:
				unexpected(p, "not <section>-N.txtoriginal.txt or <section>-N.txt")
			}
		}
		for id, p := range anns {
			if _, ok := texts[id]; !ok {
				unexpected(p, "an annotation file without its text")
			}
		}
		for id, p := range texts {
			n := math.MaxInt
			if i := strings.LastIndexByte(id, '-'); i >= 0 {
				if v, err := strconv.Atoi(id[i+1:]); err == nil {
					n = v
				}
			}
			items = append(items, ccks2017Item{n: n, section: sec.Name(), id: id, textPath: p, annPath: anns[id]})
		}
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%s: no *%s files in the section directories of %s", name, ccks2017TextSuffix, dir)
	}
	reportMissingSections(rep, dir, items)
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.n != b.n {
			return a.n < b.n
		}
		if a.section != b.section {
			return a.section < b.section
		}
		return a.id < b.id
	})
	ds := &Dataset{Name: name, Report: rep, Docs: make([]Document, 0, len(items))}
	for _, it := range items {
		text, err := os.ReadFile(it.textPath)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		var ann []byte
		switch {
		case it.annPath != "":
			if ann, err = os.ReadFile(it.annPath); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		case labeled:
			rep.Add(Problem{File: it.textPath, DocID: it.id, Kind: KindMissingAnnotation,
				Detail: "no " + it.id + ccks2017AnnSuffix + " beside the text", Action: "kept: text read without entities"})
		}
		ds.Docs = append(ds.Docs, ParseCCKS2017Pair(it.id, it.textPath, text, it.annPath, ann, rep))
	}
	reportDuplicateTexts(rep, dir, ds.Docs)
	return ds, nil
}

// reportMissingSections reports, for every document number N found in some section, each
// section directory that has no text for N.
func reportMissingSections(rep *Report, dir string, items []ccks2017Item) {
	has := map[int]map[string]bool{}
	sections := map[string]bool{}
	for _, it := range items {
		sections[it.section] = true
		if it.n == math.MaxInt {
			continue
		}
		if has[it.n] == nil {
			has[it.n] = map[string]bool{}
		}
		has[it.n][it.section] = true
	}
	ns := make([]int, 0, len(has))
	for n := range has {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	secs := make([]string, 0, len(sections))
	for s := range sections {
		secs = append(secs, s)
	}
	sort.Strings(secs)
	for _, n := range ns {
		for _, s := range secs {
			if !has[n][s] {
				rep.Add(Problem{File: filepath.Join(dir, s), DocID: fmt.Sprintf("%s-%d", s, n), Kind: KindMissingSection,
					Detail: fmt.Sprintf("no %s-%d%s although other sections have document %d", s, n, ccks2017TextSuffix, n),
					Action: "kept: the document has one section file fewer"})
			}
		}
	}
}

// ParseCCKS2017Pair builds one Document from a CCKS2017 text file and its annotation file
// (nil for an unlabeled text). The text loses a leading BOM and has CRLF normalised to LF
// before offsets are used; annotation lines are "mention\tstart\tend\ttype" with a 0-based,
// inclusive end. Problems go to rep under the two file names.
func ParseCCKS2017Pair(id, textFile string, text []byte, annFile string, ann []byte, rep *Report) Document {
	text = bytes.TrimPrefix(text, []byte(bom))
	s := string(text)
	if !utf8.ValidString(s) {
		s = fixUTF8(s)
		rep.Add(Problem{File: textFile, DocID: id, Kind: KindInvalidUTF8, Detail: "text is not valid UTF-8",
			Action: "fixed: each invalid byte replaced by U+FFFD"})
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	doc := Document{ID: id, Text: s}
	if ann == nil {
		return doc
	}
	var raws []rawEntity
	lr := newLineReader(bytes.NewReader(ann), annFile, rep)
	for {
		line, ok, _ := lr.next() // a bytes.Reader cannot fail
		if !ok {
			break
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		re, err := parseCCKS2017Line(line)
		if err != nil {
			rep.Add(Problem{File: annFile, Line: lr.line, DocID: id, Kind: KindMalformedLine,
				Detail: fmt.Sprintf("%q: %v", line, err), Action: "refused: line skipped"})
			continue
		}
		re.line = lr.line
		raws = append(raws, re)
	}
	c := &checker{rep: rep, file: annFile, lenient: true}
	doc.Entities = c.entities(id, []rune(s), raws)
	return doc
}

// parseCCKS2017Line parses "mention\tstart\tend\ttype" (a mention holding tabs is rejoined).
func parseCCKS2017Line(line string) (rawEntity, error) {
	f := strings.Split(line, "\t")
	if len(f) < 4 {
		return rawEntity{}, fmt.Errorf("want 4 tab-separated fields, got %d", len(f))
	}
	k := len(f)
	start, err := strconv.Atoi(strings.TrimSpace(f[k-3]))
	if err != nil {
		return rawEntity{}, fmt.Errorf("start: %w", err)
	}
	end, err := strconv.Atoi(strings.TrimSpace(f[k-2]))
	if err != nil {
		return rawEntity{}, fmt.Errorf("end: %w", err)
	}
	return rawEntity{start: start, end: end, inclusive: true, typ: strings.TrimSpace(f[k-1]),
		mention: strings.Join(f[:k-3], "\t"), hasMention: true}, nil
}

// reportDuplicateTexts reports every document whose text equals an earlier document's
// (non-empty) text. Both are kept.
func reportDuplicateTexts(rep *Report, file string, docs []Document) {
	first := make(map[string]string, len(docs))
	for _, d := range docs {
		if d.Text == "" {
			continue
		}
		if id, ok := first[d.Text]; ok {
			rep.Add(Problem{File: file, DocID: d.ID, Kind: KindDuplicateText,
				Detail: fmt.Sprintf("same text (%d runes) as %s", utf8.RuneCountInString(d.Text), id),
				Action: "kept: both documents kept, as in the official counts"})
			continue
		}
		first[d.Text] = d.ID
	}
}
