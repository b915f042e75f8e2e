package pipeline

import (
	"context"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/tensor/cpu"
	"github.com/bingli/bingli/internal/datadir"
)

// BenchmarkLiteRecord tags the 100 yidu-train-dev dev documents one record at a time (each
// record's sentences decoded as one batch, as the browser does) with the shipped lite
// model on one thread. Run it under wasm with
//
//	GOOS=js GOARCH=wasm go test -run XXX -bench LiteRecord ./core/pipeline -exec "$(go env GOROOT)/lib/wasm/go_js_wasm_exec"
func BenchmarkLiteRecord(b *testing.B) {
	ds, err := corpus.Read("yidu", filepath.Join(datadir.OrSkip(b), "ner", "yidu_s4k"))
	if err != nil {
		b.Fatal(err)
	}
	_, dev, _, err := corpus.Split("yidu-train-dev", ds.Docs)
	if err != nil {
		b.Fatal(err)
	}
	mt, err := LoadModelTagger(cpu.New(1), "../../weights/yidu-lite")
	if err != nil {
		b.Fatal(err)
	}
	chars := 0
	for _, d := range dev {
		chars += utf8.RuneCountInString(d.Text)
	}
	b.ResetTimer()
	for b.Loop() {
		for _, d := range dev {
			if _, err := mt.TagDocuments(context.Background(), []string{d.Text}); err != nil {
				b.Fatal(err)
			}
		}
	}
	perRun := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(chars)/perRun, "chars/s")
	b.ReportMetric(1000*perRun/float64(chars)*1000, "ms/1kchars")
}
