// Command dictcoverage reports how much of a protocol's evaluation mentions the feature
// dictionary (term lists + the protocol's training mentions) can know: mentions seen annotated
// in training with the same type, with another type, found only in the lists with a type that
// maps to the gold label or to another, and not in the dictionary at all. It bounds what
// dictionary features can add over a character model that memorises its training mentions.
//
//	go run ./bench/dictcoverage [--data ../shared/data]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/pipeline"
	"github.com/bingli/bingli/lexicon"
)

func main() {
	dataDir := flag.String("data", "../shared/data", "shared data folder")
	flag.Parse()
	data := *dataDir
	for _, pc := range []struct{ proto, ds, path, schema, part string }{
		{"yidu-train-dev", "yidu", "ner/yidu_s4k", "yidu", "dev"},
		{"ccks2017-split5", "ccks2017", "ner/ccks2017", "ccks2017", "dev"},
	} {
		ds, err := corpus.Read(pc.ds, filepath.Join(data, pc.path))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		train, dev, test, err := corpus.Split(pc.proto, ds.Docs)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		eval := dev
		if pc.part == "test" {
			eval = test
		}
		lists := os.DirFS(filepath.Join(data, "lexicon"))
		full, _, err := pipeline.BuildDictionary(pipeline.DictionarySource{Lists: lists, Annotations: []pipeline.AnnotatedSet{{Name: "t", Schema: pc.schema, Docs: train}}})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		sm, err := lexicon.Schema(pc.schema)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		var n, annSame, annOther, listSame, listOther, none int
		for _, d := range eval {
			r := []rune(d.Text)
			for _, e := range d.Entities {
				n++
				term := []rune(pipeline.NormalizeTerm(string(r[e.Start:e.End])))
				es := full.Lookup(term)
				want, _ := sm.Canonical(e.Type)
				var ann, annT, lst, lstT bool
				for _, x := range es {
					if x.Origin == lexicon.OriginAnnotation {
						ann = true
						if x.Type == want {
							annT = true
						}
					} else {
						lst = true
						if l, ok := sm.Label(x.Type, term); ok && l == e.Type {
							lstT = true
						}
					}
				}
				switch {
				case annT:
					annSame++
				case ann:
					annOther++
				case lstT:
					listSame++
				case lst:
					listOther++
				default:
					none++
				}
			}
		}
		f := func(k int) string { return fmt.Sprintf("%d (%.1f%%)", k, 100*float64(k)/float64(n)) }
		fmt.Printf("%s %s: %d gold; seen in train same type %s, train other type %s; list only right type %s, list only other type %s; not in dictionary %s\n",
			pc.proto, pc.part, n, f(annSame), f(annOther), f(listSame), f(listOther), f(none))
	}
}
