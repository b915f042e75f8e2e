package lexicon

import (
	"github.com/bingli/bingli/internal/datadir"

	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
)

// dataDir is the shared data folder; the test or benchmark is skipped without it.
func dataDir(tb testing.TB) string {
	tb.Helper()
	return datadir.OrSkip(tb)
}

// normalize is a simple stand-in for the project's text normaliser:
// full-width forms to half-width, ideographic space to space, lower-case.
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

type fullData struct {
	dict    *Dictionary
	reports []LoadReport
	load    time.Duration
	err     error
}

var (
	fullOnce sync.Once
	full     fullData
)

// fullDictionary loads (once) the default dictionary from the staged lists.
func fullDictionary(tb testing.TB) (*Dictionary, fullData) {
	tb.Helper()
	dir := dataDir(tb)
	fullOnce.Do(func() {
		start := time.Now()
		b := NewBuilder(normalize)
		full.reports, full.err = b.LoadDefault(os.DirFS(filepath.Join(dir, "lexicon")), DefaultOptions{})
		if full.err == nil {
			full.dict, full.err = b.Build()
		}
		full.load = time.Since(start)
	})
	if full.err != nil {
		tb.Fatal(full.err)
	}
	return full.dict, full
}

// clinicalText returns the CCKS2017 training texts, normalised, one slice
// per file (CRLF → LF).
func clinicalText(tb testing.TB) (docs [][]rune, chars int) {
	tb.Helper()
	root := filepath.Join(dataDir(tb), "ner", "ccks2017", "Train")
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(path, ".txtoriginal.txt") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		r := []rune(normalize(strings.ReplaceAll(string(data), "\r\n", "\n")))
		docs = append(docs, r)
		chars += len(r)
		return nil
	})
	if err != nil || len(docs) == 0 {
		tb.Skipf("CCKS2017 training texts not readable under %s: %v", root, err)
	}
	return docs, chars
}

func TestFullDictionary(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the full lists")
	}
	d, f := fullDictionary(t)
	for _, r := range f.reports {
		t.Logf("%s: rows %d, added %d, dropped (term rule) %d, malformed %d", r.File, r.Rows, r.Added, r.Dropped, r.Malformed)
		for _, e := range r.Errors {
			t.Log("  ", e)
		}
		if r.Malformed != 0 {
			t.Errorf("%s: %d malformed rows", r.File, r.Malformed)
		}
	}
	s := d.Stats()
	t.Logf("loaded and built from the gz list in %v", f.load)
	t.Logf("terms %d, alphabet %d, slots %d (%.2f per term), combinations %d, annotated %d",
		s.Terms, s.Alphabet, s.Slots, float64(s.Slots)/float64(s.Terms), s.Combinations, s.Annotated)
	t.Logf("trie memory %d bytes = %.1f bytes/term (double array %d bytes)", s.TrieBytes, float64(s.TrieBytes)/float64(s.Terms), 8*s.Slots)
	for _, typ := range CanonicalTypes() {
		t.Logf("  %-10s %7d terms (first type), %7d with an entry", typ, s.ByType[typ], s.ByEntryType[typ])
	}
	for src, n := range s.BySource {
		t.Logf("  source %-18s %7d terms", src, n)
	}
	if s.Terms < 150000 {
		t.Errorf("only %d terms", s.Terms)
	}
	if s.BySource["cEHRNER_train"] != 0 {
		t.Error("the default build includes ChineseBLUE")
	}

	var buf bytes.Buffer
	if _, err := d.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	t.Logf("serialised: %d bytes (%.2f MiB, %.1f bytes/term), uncompressed body %d bytes, hash %s",
		buf.Len(), float64(buf.Len())/(1<<20), float64(buf.Len())/float64(s.Terms), len(d.body()), d.Hash())
	if buf.Len() > 8<<20 {
		t.Errorf("serialised dictionary is %d bytes", buf.Len())
	}

	before := liveHeap()
	start := time.Now()
	r, err := Read(bytes.NewReader(buf.Bytes()))
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	heap := liveHeap() - before
	runtime.KeepAlive(&buf)
	t.Logf("Read: %v, heap delta %d bytes (%.1f bytes/term)", elapsed, heap, float64(heap)/float64(s.Terms))
	if r.Hash() != d.Hash() {
		t.Error("hash differs after Read")
	}
	runtime.KeepAlive(r)

	// The dictionary contains its own terms and segments real text sanely.
	for _, term := range []string{"高血压", "糖尿病", "头痛", "阿司匹林"} {
		if e := d.Lookup([]rune(term)); e == nil {
			t.Errorf("%s not found", term)
		} else {
			t.Logf("%s: %v", term, e)
		}
	}
	docs, _ := clinicalText(t)
	text := docs[0]
	if len(text) > 120 {
		text = text[:120]
	}
	t.Logf("BiMM of %q:\n%s", string(text), render(text, d.Segment(text, Bidirectional)))
}

// reportThroughput reports chars/s (wall clock) and chars/cpu-s (process
// CPU time since cpu0, when available).
func reportThroughput(b *testing.B, chars int, cpu0 time.Duration) {
	total := float64(chars) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "chars/s")
	if cpu := cpuTime() - cpu0; cpu > 0 && cpu0 > 0 {
		b.ReportMetric(total/cpu.Seconds(), "chars/cpu-s")
	}
}

// liveHeap returns the live heap after two collections (the second frees
// what sync.Pools kept through the first).
func liveHeap() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

func benchSegment(b *testing.B, mode Mode) {
	d, _ := fullDictionary(b)
	docs, chars := clinicalText(b)
	dst := make([]Match, 0, 4096)
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		for _, doc := range docs {
			dst = d.AppendSegment(dst[:0], doc, mode)
		}
	}
	reportThroughput(b, chars, cpu0)
}

// BenchmarkSegment segments the CCKS2017 training texts (one call per
// file) with the full combined dictionary.
func BenchmarkSegment(b *testing.B) {
	for _, mode := range []Mode{Forward, Backward, Bidirectional} {
		b.Run(mode.String(), func(b *testing.B) { benchSegment(b, mode) })
	}
}

func BenchmarkFeatures(b *testing.B) {
	d, _ := fullDictionary(b)
	docs, chars := clinicalText(b)
	dst := make([]Feature, 0, 8192)
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		for _, doc := range docs {
			dst = d.AppendFeatures(dst[:0], doc)
		}
	}
	reportThroughput(b, chars, cpu0)
}

// BenchmarkLoadLists loads and builds the default dictionary from the gz list.
func BenchmarkLoadLists(b *testing.B) {
	fsys := os.DirFS(filepath.Join(dataDir(b), "lexicon"))
	for range b.N {
		bl := NewBuilder(normalize)
		if _, err := bl.LoadDefault(fsys, DefaultOptions{}); err != nil {
			b.Fatal(err)
		}
		if _, err := bl.Build(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead reads the serialised default dictionary from memory and
// reports the heap it keeps.
func BenchmarkRead(b *testing.B) {
	d, _ := fullDictionary(b)
	var buf bytes.Buffer
	if _, err := d.WriteTo(&buf); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(buf.Len()), "file-bytes")
	var heap int64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		before := liveHeap()
		b.StartTimer()
		r, err := Read(bytes.NewReader(buf.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		heap = liveHeap() - before
		runtime.KeepAlive(r)
		runtime.KeepAlive(&buf)
		b.StartTimer()
	}
	b.ReportMetric(float64(heap), "heap-bytes")
}
