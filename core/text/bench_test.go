package text

import (
	"github.com/bingli/bingli/internal/datadir"

	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// clinicalText is every CCKS2017 training text, concatenated; it skips b without the data.
func clinicalText(b *testing.B) string {
	b.Helper()
	root := datadir.OrSkip(b)
	train := filepath.Join(root, "ner", "ccks2017", "Train")
	var sb strings.Builder
	err := filepath.WalkDir(train, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".txtoriginal.txt") {
			return err
		}
		data, err := os.ReadFile(path)
		sb.Write(data)
		return err
	})
	if err != nil || sb.Len() == 0 {
		b.Skipf("no CCKS2017 training texts under %s (%v): set BINGLI_DATA to the shared/data directory", train, err)
	}
	return sb.String()
}

func BenchmarkNormalize(b *testing.B) {
	s := clinicalText(b)
	chars := utf8.RuneCountInString(s)
	opt := DefaultOptions()
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Normalize(s, opt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(chars)*float64(b.N)/b.Elapsed().Seconds(), "chars/s")
}

func BenchmarkSplitSentences(b *testing.B) {
	s := clinicalText(b)
	nm, err := Normalize(s, DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(nm.Text)))
	b.ReportAllocs()
	for b.Loop() {
		SplitSentences(nm.Runes, 256)
	}
	b.ReportMetric(float64(len(nm.Runes))*float64(b.N)/b.Elapsed().Seconds(), "chars/s")
}
