package gsebench

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/bingli/bingli/internal/datadir"
	"github.com/bingli/bingli/lexicon"
	"github.com/go-ego/gse"
)

// dataDir is the shared data folder; the benchmark is skipped without it.
func dataDir(tb testing.TB) string {
	tb.Helper()
	return datadir.OrSkip(tb)
}

// normalize: full-width forms to half-width, ideographic space, lower-case.
func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == 0x3000:
			r = ' '
		}
		if r < 0x250 {
			r = unicode.ToLower(r)
		}
		return r
	}, s)
}

type fixture struct {
	docs  []string
	runes [][]rune
	chars int
	dict  *lexicon.Dictionary
	seg   *gse.Segmenter
	err   error
}

var load sync.Once
var fx fixture

// setup loads (once) the CCKS2017 training texts, the default bingli
// dictionary and gse with its embedded Chinese dictionary.
func setup(b *testing.B) *fixture {
	b.Helper()
	dir := dataDir(b)
	load.Do(func() {
		root := filepath.Join(dir, "ner", "ccks2017", "Train")
		fx.err = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
			if err != nil || !strings.HasSuffix(path, ".txtoriginal.txt") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			s := normalize(strings.ReplaceAll(string(data), "\r\n", "\n"))
			fx.docs = append(fx.docs, s)
			fx.runes = append(fx.runes, []rune(s))
			fx.chars += len(fx.runes[len(fx.runes)-1])
			return nil
		})
		if fx.err != nil {
			return
		}
		bl := lexicon.NewBuilder(normalize)
		if _, fx.err = bl.LoadDefault(os.DirFS(filepath.Join(dir, "lexicon")), lexicon.DefaultOptions{}); fx.err != nil {
			return
		}
		if fx.dict, fx.err = bl.Build(); fx.err != nil {
			return
		}
		fx.seg = new(gse.Segmenter)
		fx.seg.SkipLog = true
		fx.err = fx.seg.LoadDictEmbed("zh")
	})
	if fx.err != nil {
		b.Skip("cannot load the benchmark data:", fx.err)
	}
	return &fx
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSegmenters segments every CCKS2017 training text (one call per
// file) with each segmenter and reports characters per second of wall time
// and of process CPU time (the test machine is shared).
func BenchmarkSegmenters(b *testing.B) {
	matches := make([]lexicon.Match, 0, 4096)
	cases := []struct {
		name string
		run  func(f *fixture, i int)
	}{
		{"bingli-BiMM", func(f *fixture, i int) {
			matches = f.dict.AppendSegment(matches[:0], f.runes[i], lexicon.Bidirectional)
		}},
		{"bingli-FMM", func(f *fixture, i int) { matches = f.dict.AppendSegment(matches[:0], f.runes[i], lexicon.Forward) }},
		{"bingli-BMM", func(f *fixture, i int) { matches = f.dict.AppendSegment(matches[:0], f.runes[i], lexicon.Backward) }},
		{"gse-Cut-shortest-path", func(f *fixture, i int) { f.seg.Cut(f.docs[i]) }},
		{"gse-Cut-DAG", func(f *fixture, i int) { f.seg.Cut(f.docs[i], false) }},
		{"gse-Cut-DAG-HMM", func(f *fixture, i int) { f.seg.Cut(f.docs[i], true) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f := setup(b)
			b.ResetTimer()
			cpu0 := cpuTime()
			for range b.N {
				for i := range f.docs {
					c.run(f, i)
				}
			}
			total := float64(f.chars) * float64(b.N)
			b.ReportMetric(total/b.Elapsed().Seconds(), "chars/s")
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(total/cpu.Seconds(), "chars/cpu-s")
			}
		})
	}
}
