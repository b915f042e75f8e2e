package corpus

import (
	"github.com/bingli/bingli/internal/datadir"

	"path/filepath"
	"testing"
)

// dataDir is the shared data folder; the test is skipped without it.
func dataDir(t *testing.T) string {
	t.Helper()
	return datadir.OrSkip(t)
}

func logReport(t *testing.T, ds *Dataset) {
	t.Helper()
	t.Logf("%s: %d documents; problems:\n%s", ds.Name, len(ds.Docs), ds.Report.Summary())
	shown := map[string]int{}
	for _, p := range ds.Report.Problems {
		if shown[p.Kind]++; shown[p.Kind] <= 5 {
			t.Log(p)
		}
	}
	t.Logf("stats:\n%s", Stats(ds.Docs))
}

func countEntities(docs []Document) int {
	n := 0
	for _, d := range docs {
		n += len(d.Entities)
	}
	return n
}

// docNumbers counts the distinct CCKS2017 document numbers N among section documents.
func docNumbers(docs []Document) int {
	ns := map[int]bool{}
	for _, d := range docs {
		n, _ := idNumber(d.ID, "")
		ns[n] = true
	}
	return len(ns)
}

func TestRealData(t *testing.T) {
	ner := filepath.Join(dataDir(t), "ner")
	read := func(t *testing.T, name, path string) *Dataset {
		t.Helper()
		ds, err := Read(name, filepath.Join(ner, path))
		if err != nil {
			t.Fatal(err)
		}
		logReport(t, ds)
		return ds
	}
	want := func(t *testing.T, what string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %d, want %d", what, got, want)
		}
	}
	t.Run("ccks2017", func(t *testing.T) {
		ds := read(t, "ccks2017", "ccks2017")
		// DATA.md says 300 documents x 4 sections, but 出院情况-191 and 诊疗经过-191 are not
		// in the data (2,396 files): 1,198 section files.
		want(t, "documents", len(ds.Docs), 1198)
		want(t, "missing sections", ds.Report.Counts[KindMissingSection], 2)
		want(t, "mentions", countEntities(ds.Docs), 29866)
		want(t, "types", len(Stats(ds.Docs).PerType), 5)
		train, dev, test, err := Split("ccks2017-split5", ds.Docs)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "split5 test section files", len(test), 240)
		want(t, "split5 test mentions", countEntities(test), 5868)
		want(t, "split5 dev section files", len(dev), 118) // 30 documents; N = 191 has 2 sections
		want(t, "split5 train section files", len(train), 840)
		want(t, "split5 documents (test, dev, train)", docNumbers(test)*10000+docNumbers(dev)*100+docNumbers(train), 60*10000+30*100+210)
	})
	t.Run("ccks2017-unlabeled", func(t *testing.T) {
		ds := read(t, "ccks2017-unlabeled", "ccks2017")
		want(t, "documents", len(ds.Docs), 398) // 出院情况-361 and 诊疗经过-361 are missing
		want(t, "missing sections", ds.Report.Counts[KindMissingSection], 2)
		want(t, "mentions", countEntities(ds.Docs), 0)
	})
	t.Run("yidu", func(t *testing.T) {
		ds := read(t, "yidu", "yidu_s4k")
		want(t, "documents", len(ds.Docs), 1000)
		want(t, "entities", countEntities(ds.Docs), 17653)
		want(t, "types", len(Stats(ds.Docs).PerType), 6)
		want(t, "duplicate texts", ds.Report.Counts[KindDuplicateText], 1) // part1-338 = part2-206
		want(t, "spans trimmed of whitespace", ds.Report.Counts[KindWhitespaceEdge], 87)
		train, dev, test, err := Split("yidu-train-dev", ds.Docs)
		if err != nil {
			t.Fatal(err)
		}
		want(t, "train", len(train), 900)
		want(t, "dev", len(dev), 100)
		want(t, "test", len(test), 0)
	})
	t.Run("ccks2018", func(t *testing.T) {
		ds := read(t, "ccks2018", "ccks2018")
		want(t, "sentences", len(ds.Docs), 7090)
		want(t, "entities", countEntities(ds.Docs), 25596) // 25,590 B- tags + 6 repaired I- after O
	})
	t.Run("cmeee", func(t *testing.T) {
		ds := read(t, "cmeee", "cmeee")
		want(t, "sentences", len(ds.Docs), 15000)
		want(t, "entities", countEntities(ds.Docs), 61794) // 61,796 annotations less 2 empty spans
		want(t, "types", len(Stats(ds.Docs).PerType), 9)
		want(t, "reversed or empty spans", ds.Report.Counts[KindReversedSpan]+ds.Report.Counts[KindEmptySpan], 2)
	})
	for _, split := range []string{"train", "dev", "test"} {
		t.Run("cmedqaner-"+split, func(t *testing.T) {
			ds, err := ReadCMedQANER(filepath.Join(ner, "cmedqaner"), split)
			if err != nil {
				t.Fatal(err)
			}
			logReport(t, ds)
			want(t, "types", len(Stats(ds.Docs).PerType), 11)
		})
	}
}
