// Command dictcoverage reports how much of a protocol's evaluation mentions the feature
// dictionary (term lists + the protocol's training mentions) can know: mentions seen annotated
// in training with the same type, with another type, found only in the lists with a type that
// maps to the gold label or to another, and not in the dictionary at all. It bounds what
// dictionary features can add over a character model that memorises its training mentions.
//
// With --pred PROTOCOL:LABEL=FILE (repeatable; FILE is `bingli tag` output on the
// protocol's dev split, JSON lines) it also gives each model's recall in each class: a
// mention counts when the model found exactly its span with its type.
//
//	go run ./bench/dictcoverage [--data ../shared/data] [--pred yidu-train-dev:chars=chars.jsonl ...]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/pipeline"
	"github.com/bingli/bingli/lexicon"
)

// preds are the --pred flags: per protocol, labelled prediction files in flag order.
type preds map[string][][2]string

func (p preds) String() string { return fmt.Sprint(map[string][][2]string(p)) }

func (p preds) Set(v string) error {
	proto, rest, ok1 := strings.Cut(v, ":")
	label, file, ok2 := strings.Cut(rest, "=")
	if !ok1 || !ok2 || proto == "" || label == "" || file == "" {
		return fmt.Errorf("want PROTOCOL:LABEL=FILE, got %q", v)
	}
	p[proto] = append(p[proto], [2]string{label, file})
	return nil
}

// classes, in the order they are printed.
var classes = []string{"seen in train, same type", "seen in train, other type", "lists only, right type", "lists only, other type", "not in dictionary"}

func main() {
	dataDir := flag.String("data", "../shared/data", "shared data folder")
	predFlags := preds{}
	flag.Var(predFlags, "pred", "PROTOCOL:LABEL=FILE: a model's `bingli tag` output on the dev split (repeatable)")
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
		// found[label][docID] holds the model's entities as "start end type".
		found := map[string]map[string]map[string]bool{}
		for _, lf := range predFlags[pc.proto] {
			pds, err := corpus.ReadJSONL(lf[1])
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			m := map[string]map[string]bool{}
			for _, d := range pds.Docs {
				m[d.ID] = map[string]bool{}
				for _, e := range d.Entities {
					m[d.ID][fmt.Sprint(e.Start, e.End, e.Type)] = true
				}
			}
			found[lf[0]] = m
		}
		classN := make([]int, len(classes))
		hits := map[string][]int{}
		for _, lf := range predFlags[pc.proto] {
			hits[lf[0]] = make([]int, len(classes))
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
				var class int
				switch {
				case annT:
					annSame++
				case ann:
					annOther, class = annOther+1, 1
				case lstT:
					listSame, class = listSame+1, 2
				case lst:
					listOther, class = listOther+1, 3
				default:
					none, class = none+1, 4
				}
				classN[class]++
				for label, m := range found {
					if m[d.ID][fmt.Sprint(e.Start, e.End, e.Type)] {
						hits[label][class]++
					}
				}
			}
		}
		f := func(k int) string { return fmt.Sprintf("%d (%.1f%%)", k, 100*float64(k)/float64(n)) }
		fmt.Printf("%s %s: %d gold; seen in train same type %s, train other type %s; list only right type %s, list only other type %s; not in dictionary %s\n",
			pc.proto, pc.part, n, f(annSame), f(annOther), f(listSame), f(listOther), f(none))
		if len(predFlags[pc.proto]) == 0 {
			continue
		}
		fmt.Printf("  recall by class (found / mentions), and the misses as points of overall recall:\n")
		for c, name := range classes {
			fmt.Printf("  %-28s %5d", name, classN[c])
			for _, lf := range predFlags[pc.proto] {
				h := hits[lf[0]][c]
				fmt.Printf("  %s %5.1f%% (misses %.2f pts)", lf[0], 100*float64(h)/float64(max(classN[c], 1)), 100*float64(classN[c]-h)/float64(n))
			}
			fmt.Println()
		}
	}
}
