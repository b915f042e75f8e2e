package corpus

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// lineBreak reports runes that would break a line-oriented file.
func lineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', '\u0085', '\u2028', '\u2029':
		return true
	}
	return false
}

// WriteBIO writes documents as char BIO: one "char tag" line per rune (tags from ToBIO, "-"
// separator), a blank line after each document. Line-break runes are written as an ASCII
// space so every rune keeps its line (offsets survive; the text does not exactly); empty
// documents cannot be written and are skipped. dropped is the total ToBIO dropped for
// nesting or overlap, for callers to report.
func WriteBIO(w io.Writer, docs []Document) (dropped int, err error) {
	bw := bufio.NewWriter(w)
	for _, d := range docs {
		if d.Text == "" {
			continue
		}
		tags, n := ToBIO(d)
		dropped += n
		i := 0
		for _, r := range d.Text {
			if lineBreak(r) {
				r = ' '
			}
			bw.WriteRune(r)
			bw.WriteByte(' ')
			bw.WriteString(tags[i])
			bw.WriteByte('\n')
			i++
		}
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return dropped, fmt.Errorf("corpus: write BIO: %w", err)
	}
	return dropped, nil
}

// WriteBRAT writes one document as BRAT standoff: the text to txt, and to ann one line
// "T<k>\t<type> <start> <end>\t<mention>" per entity in SortEntities order. BRAT offsets
// are character offsets, end exclusive, which here means Unicode code points (runes), the
// same numbers as Entity's. Line breaks inside a mention are written as spaces in the
// mention column (the offsets stay exact).
func WriteBRAT(txt, ann io.Writer, doc Document) error {
	if _, err := io.WriteString(txt, doc.Text); err != nil {
		return fmt.Errorf("corpus: write BRAT text of %s: %w", doc.ID, err)
	}
	runes := []rune(doc.Text)
	ents := slices.Clone(doc.Entities)
	SortEntities(ents)
	bw := bufio.NewWriter(ann)
	for k, e := range ents {
		if e.Start < 0 || e.Start >= e.End || e.End > len(runes) {
			return fmt.Errorf("corpus: write BRAT %s: entity [%d,%d) %s outside the text", doc.ID, e.Start, e.End, e.Type)
		}
		m := strings.Map(func(r rune) rune {
			if lineBreak(r) {
				return ' '
			}
			return r
		}, string(runes[e.Start:e.End]))
		fmt.Fprintf(bw, "T%d\t%s %d %d\t%s\n", k+1, e.Type, e.Start, e.End, m)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("corpus: write BRAT annotations of %s: %w", doc.ID, err)
	}
	return nil
}

// WriteBRATDir writes each document to dir/<id>.txt and dir/<id>.ann (path separators in
// the id become "_"), creating dir. Documents need IDs.
func WriteBRATDir(dir string, docs []Document) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	for _, d := range docs {
		if d.ID == "" {
			return fmt.Errorf("corpus: write BRAT to %s: a document has no ID to name its files", dir)
		}
		base := filepath.Join(dir, strings.NewReplacer("/", "_", `\`, "_").Replace(d.ID))
		if err := writeBRATFiles(base, d); err != nil {
			return err
		}
	}
	return nil
}

func writeBRATFiles(base string, d Document) (err error) {
	txt, err := os.Create(base + ".txt")
	if err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	defer func() {
		if cerr := txt.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("corpus: %w", cerr)
		}
	}()
	ann, err := os.Create(base + ".ann")
	if err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	defer func() {
		if cerr := ann.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("corpus: %w", cerr)
		}
	}()
	return WriteBRAT(txt, ann, d)
}
