package pipeline

import (
	"context"
	"testing"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/tensor/cpu"
	"github.com/bingli/bingli/lexicon"
)

func fixtureDict(t *testing.T) *lexicon.Dictionary {
	t.Helper()
	d, rep, err := BuildDictionary(DictionarySource{Annotations: []AnnotatedSet{{
		Name: "fixture", Schema: "ccks2017",
		Docs: []corpus.Document{{ID: "a", Text: "头痛伴颅脑CT异常", Entities: []corpus.Entity{
			{Start: 0, End: 2, Type: "症状和体征"}, {Start: 3, End: 7, Type: "检查和检验"},
			{Start: 8, End: 9, Type: "症状和体征"}, // one rune: below the dictionary's minimum
		}}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Mentions["fixture"] != 2 || rep.Skipped["fixture"] != 1 {
		t.Fatalf("report %+v", rep)
	}
	return d
}

// TestDictTaggerOffsets checks that entities found on normalised text (full-width Latin
// folded and lower-cased, whitespace collapsed) come back on the caller's original text.
func TestDictTaggerOffsets(t *testing.T) {
	tg, err := NewDictTagger(fixtureDict(t), "ccks2017")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text string
		want []Entity
	}{
		{"患者  头痛，查颅脑ＣＴ。", []Entity{{4, 6, "症状和体征", "头痛", 1}, {8, 12, "检查和检验", "颅脑ＣＴ", 1}}},
		{"\r\n\t颅脑ct", []Entity{{3, 7, "检查和检验", "颅脑ct", 1}}},
		{"", nil},
	} {
		got, err := tg.Tag(tc.text)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%q: got %+v, want %+v", tc.text, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%q: entity %d = %+v, want %+v", tc.text, i, got[i], tc.want[i])
			}
		}
	}
	if _, err := tg.Tag("bad \xff byte"); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
	if _, err := NewDictTagger(nil, "ccks2017"); err == nil {
		t.Error("nil dictionary accepted")
	}
	if _, err := NewDictTagger(fixtureDict(t), "no-such-schema"); err == nil {
		t.Error("unknown schema accepted")
	}
}

// TestModelTaggerBatchesMatchSingles checks that tagging documents together gives the same
// entities as tagging them one at a time, with the shipped lite model.
func TestModelTaggerBatchesMatchSingles(t *testing.T) {
	mt, err := LoadModelTagger(cpu.New(1), "../../weights/yidu-lite")
	if err != nil {
		t.Fatal(err)
	}
	if mt.Schema() != "yidu" {
		t.Fatalf("schema %q", mt.Schema())
	}
	texts := []string{"患者行腹腔镜下胆囊切除术，术后予头孢呋辛抗感染。", "CT示肝右叶占位。", "无"}
	together, err := mt.TagDocuments(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range texts {
		one, err := mt.Tag(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(one) != len(together[i]) {
			t.Fatalf("text %d: alone %+v, together %+v", i, one, together[i])
		}
		for j := range one {
			if one[j].Start != together[i][j].Start || one[j].End != together[i][j].End || one[j].Type != together[i][j].Type {
				t.Errorf("text %d entity %d: alone %+v, together %+v", i, j, one[j], together[i][j])
			}
		}
	}
	if len(together[0]) == 0 {
		t.Error("no entities in a clinical sentence")
	}
}
