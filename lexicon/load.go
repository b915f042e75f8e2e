package lexicon

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// File names of the staged lists (see shared/data/DATA.md).
const (
	// CombinedFile merges all staged lists except the ChineseBLUE one.
	CombinedFile = "combined_typed_lexicon.tsv.gz"
	// ChineseBLUEFile lists the gold mentions of the cEHRNER and cMedQANER
	// training splits. cEHRNER derives from the CCKS2019/Yidu-S4K training
	// texts, so its terms may come from documents of the yidu-train-dev dev
	// split: never use a dictionary with it for yidu-train-dev scores.
	ChineseBLUEFile = "chineseblue_train_entity_lexicon.tsv"
)

// ErrMalformedRow is wrapped by the errors that describe malformed rows.
var ErrMalformedRow = errors.New("malformed row")

// maxReportedErrors bounds LoadReport.Errors; Malformed counts them all.
const maxReportedErrors = 20

// LoadReport tells what a loader did with a file. Loaders skip malformed
// rows (wrong number of fields, invalid UTF-8, unknown type or source, bad
// frequency), count them in Malformed and keep the first errors, each
// naming the file and line and wrapping [ErrMalformedRow]. The caller
// decides whether any malformed row is fatal.
type LoadReport struct {
	File      string
	Rows      int     // data rows (header and blank lines excluded)
	Added     int     // rows whose term was added
	Dropped   int     // rows whose term the builder's term rule dropped
	Unmapped  int     // rows whose type has no canonical type (skipped on purpose)
	Malformed int     // rows skipped as malformed
	Errors    []error // the first malformed-row errors
}

func (rep *LoadReport) malformed(line int, format string, args ...any) {
	rep.Malformed++
	if len(rep.Errors) < maxReportedErrors {
		rep.Errors = append(rep.Errors, fmt.Errorf("%s:%d: %w: %s", rep.File, line, ErrMalformedRow, fmt.Sprintf(format, args...)))
	}
}

func (rep *LoadReport) added(kept bool) {
	if kept {
		rep.Added++
	} else {
		rep.Dropped++
	}
}

// eachLine calls fn for every non-blank line of r (gzip-compressed input is
// detected and decompressed), with its 1-based line number and without the
// line ending.
func eachLine(r io.Reader, name string, fn func(line int, text string) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("lexicon: %s: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Bytes()
		text = bytes.TrimSuffix(text, []byte{'\r'})
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		if err := fn(line, string(text)); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("lexicon: %s: after line %d: %w", name, line, err)
	}
	return nil
}

// LoadTypedTSV loads the combined list format: a header "term\ttype\tsource"
// then one row per (term, type, source). The types are mapped to canonical
// types as the package documentation says. name names the input in errors.
func (b *Builder) LoadTypedTSV(r io.Reader, name string) (LoadReport, error) {
	rep := LoadReport{File: name}
	header := true
	err := eachLine(r, name, func(line int, text string) error {
		if header {
			header = false
			if text != "term\ttype\tsource" {
				return fmt.Errorf("lexicon: %s:%d: header %q, want \"term\\ttype\\tsource\"", name, line, text)
			}
			return nil
		}
		rep.Rows++
		f := strings.Split(text, "\t")
		switch {
		case len(f) != 3:
			rep.malformed(line, "%d fields, want 3", len(f))
		case !utf8.ValidString(text):
			rep.malformed(line, "invalid UTF-8")
		case f[2] == "":
			rep.malformed(line, "empty source")
		default:
			t, ok := listTypes[f[1]]
			if !ok {
				rep.malformed(line, "unknown type %q", f[1])
				return nil
			}
			kept, err := b.AddListTerm(f[0], t, f[2])
			if err != nil {
				return err
			}
			rep.added(kept)
		}
		return nil
	})
	if err == nil && header {
		err = fmt.Errorf("lexicon: %s: empty input, want a header", name)
	}
	return rep, err
}

// LoadChineseBLUE loads chineseblue_train_entity_lexicon.tsv: a header
// "term\ttype\tsource\tfreq", sources cEHRNER_train and cMedQANER_train
// (rows of any other split are malformed), types of the cehrner and
// cmedqaner schemas. Rows whose type has no canonical type (cmedqaner's
// crowd, feature, physiology, time) count as Unmapped. The entries are list
// entries.
//
// Leakage: cEHRNER derives from the CCKS2019/Yidu-S4K training texts, so
// its terms may come from documents of the yidu-train-dev dev split. Never
// use a dictionary built with this file for yidu-train-dev scores.
func (b *Builder) LoadChineseBLUE(r io.Reader, name string) (LoadReport, error) {
	rep := LoadReport{File: name}
	cehr, err := Schema("cehrner")
	if err != nil {
		return rep, err
	}
	qa, err := Schema("cmedqaner")
	if err != nil {
		return rep, err
	}
	header := true
	err = eachLine(r, name, func(line int, text string) error {
		if header {
			header = false
			if text != "term\ttype\tsource\tfreq" {
				return fmt.Errorf("lexicon: %s:%d: header %q, want \"term\\ttype\\tsource\\tfreq\"", name, line, text)
			}
			return nil
		}
		rep.Rows++
		f := strings.Split(text, "\t")
		if len(f) != 4 {
			rep.malformed(line, "%d fields, want 4", len(f))
			return nil
		}
		if !utf8.ValidString(text) {
			rep.malformed(line, "invalid UTF-8")
			return nil
		}
		if n, err := strconv.Atoi(f[3]); err != nil || n < 1 {
			rep.malformed(line, "frequency %q is not a positive integer", f[3])
			return nil
		}
		var m *SchemaMap
		switch f[2] {
		case "cEHRNER_train":
			m = cehr
		case "cMedQANER_train":
			m = qa
		default:
			rep.malformed(line, "source %q is not a known training split", f[2])
			return nil
		}
		t, ok := m.Canonical(f[1])
		if !ok {
			if !slices.Contains(m.labels, f[1]) {
				rep.malformed(line, "unknown %s type %q", m.name, f[1])
			} else {
				rep.Unmapped++
			}
			return nil
		}
		kept, err := b.AddListTerm(f[0], t, f[2])
		if err != nil {
			return err
		}
		rep.added(kept)
		return nil
	})
	if err == nil && header {
		err = fmt.Errorf("lexicon: %s: empty input, want a header", name)
	}
	return rep, err
}

// LoadPlainList loads a list with one term per line, all of type t from
// source. Only the text before the first tab is the term (so "word\tcount"
// lists load too); blank lines are skipped; lines that are not valid UTF-8
// are malformed.
func (b *Builder) LoadPlainList(r io.Reader, name string, t CanonicalType, source string) (LoadReport, error) {
	rep := LoadReport{File: name}
	if !t.Valid() || source == "" {
		return rep, fmt.Errorf("lexicon: %s: need a term type and a source", name)
	}
	err := eachLine(r, name, func(line int, text string) error {
		rep.Rows++
		if !utf8.ValidString(text) {
			rep.malformed(line, "invalid UTF-8")
			return nil
		}
		term, _, _ := strings.Cut(text, "\t")
		kept, err := b.AddListTerm(term, t, source)
		if err != nil {
			return err
		}
		rep.added(kept)
		return nil
	})
	return rep, err
}

// DefaultOptions selects the lists [Builder.LoadDefault] loads.
type DefaultOptions struct {
	// IncludeChineseBLUE also loads ChineseBLUEFile. It leaks: cEHRNER
	// derives from the Yidu-S4K training texts, which include the
	// yidu-train-dev dev documents. Never set it for a model or dictionary
	// whose scores are reported under the yidu-train-dev protocol.
	IncludeChineseBLUE bool
}

// LoadDefault loads the staged lists from fsys, the lexicon directory (e.g.
// os.DirFS("shared/data/lexicon")): CombinedFile, and ChineseBLUEFile only
// when opt.IncludeChineseBLUE is set.
func (b *Builder) LoadDefault(fsys fs.FS, opt DefaultOptions) ([]LoadReport, error) {
	names := []string{CombinedFile}
	loaders := []func(io.Reader, string) (LoadReport, error){b.LoadTypedTSV}
	if opt.IncludeChineseBLUE {
		names = append(names, ChineseBLUEFile)
		loaders = append(loaders, b.LoadChineseBLUE)
	}
	var reports []LoadReport
	for i, name := range names {
		rep, err := loadFile(fsys, name, loaders[i])
		reports = append(reports, rep)
		if err != nil {
			return reports, err
		}
	}
	return reports, nil
}

func loadFile(fsys fs.FS, name string, load func(io.Reader, string) (LoadReport, error)) (LoadReport, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return LoadReport{File: name}, fmt.Errorf("lexicon: %w", err)
	}
	defer f.Close()
	return load(f, name)
}
