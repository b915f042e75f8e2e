package text

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// dataDir finds the shared data directory: $BINGLI_DATA, or a shared/data found beside one
// of the directories above the test's working directory (the repository sits next to it).
func dataDir() (string, bool) {
	if d := os.Getenv("BINGLI_DATA"); d != "" {
		return d, true
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		d := filepath.Join(dir, "shared", "data")
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// clinicalText is every CCKS2017 training text, concatenated; it skips b without the data.
func clinicalText(b *testing.B) string {
	b.Helper()
	root, ok := dataDir()
	if !ok {
		b.Skip("no shared data: set BINGLI_DATA to the shared/data directory (see DATA.md)")
	}
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
