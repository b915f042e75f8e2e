package corpus

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestJSONLRoundTrip(t *testing.T) {
	docs := []Document{
		{ID: "a", Text: "右下腹疼痛<&>\"\n", Entities: ents("1,3,bod", "0,5,sym", "0,3,bod")},
		{ID: "b", Text: ""},
		{ID: "病史特点-1", Text: "患者", Entities: ents("0,2,per")},
	}
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, docs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `<&>`) {
		t.Errorf("HTML characters escaped: %s", buf.String())
	}
	rep := NewReport()
	got, err := ParseJSONL(&buf, "rt.jsonl", rep)
	if err != nil {
		t.Fatal(err)
	}
	want := []Document{
		{ID: "a", Text: docs[0].Text, Entities: ents("0,5,sym", "0,3,bod", "1,3,bod")},
		docs[1], docs[2],
	}
	if !docsEqual(got, want) {
		t.Errorf("round trip = %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(docs[0].Entities, ents("1,3,bod", "0,5,sym", "0,3,bod")) {
		t.Error("WriteJSONL reordered the caller's entities")
	}
	checkKinds(t, rep, nil)
}

func TestToBIO(t *testing.T) {
	tests := []struct {
		name    string
		doc     Document
		want    string
		changed int
	}{
		{"flat", Document{Text: "头痛伴发热", Entities: ents("0,2,sym", "3,5,sym")}, "B-sym I-sym O B-sym I-sym", 0},
		{"nested and overlapping keep the outermost", Document{Text: "右下腹疼痛。ab",
			Entities: ents("0,3,bod", "1,3,bod", "0,5,sym", "4,6,x", "6,7,b", "6,7,a")},
			"B-sym I-sym I-sym I-sym I-sym O B-a O", 4},
		{"equal length: earlier start wins", Document{Text: "abc", Entities: ents("1,3,y", "0,2,x")}, "B-x I-x O", 1},
		{"bad entities dropped", Document{Text: "ab", Entities: ents("1,5,x", "1,1,x", "0,1,")}, "O O", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tags, changed := ToBIO(tc.doc)
			if got := strings.Join(tags, " "); got != tc.want || changed != tc.changed {
				t.Errorf("ToBIO = %q, %d; want %q, %d", got, changed, tc.want, tc.changed)
			}
		})
	}
}

func TestFromBIO(t *testing.T) {
	doc, repaired, err := FromBIO([]rune("头痛伴发热"), strings.Fields("I-sym I-sym O B_sym E_sym"))
	if err != nil || repaired != 1 || doc.Text != "头痛伴发热" || !reflect.DeepEqual(doc.Entities, ents("0,2,sym", "3,5,sym")) {
		t.Errorf("FromBIO = %+v, %d, %v", doc, repaired, err)
	}
	if _, _, err := FromBIO([]rune("ab"), []string{"O"}); err == nil {
		t.Error("length mismatch: no error")
	}
	if _, _, err := FromBIO([]rune("ab"), []string{"O", "X-y"}); err == nil {
		t.Error("bad tag: no error")
	}
}

func TestBIORoundTrip(t *testing.T) {
	docs := []Document{
		{ID: "x-1", Text: "头痛伴发热 右a", Entities: ents("0,2,sym", "3,5,sym", "6,7,bod")},
		{ID: "x-2", Text: "\u3000左肺", Entities: ents("1,3,bod")},
	}
	var buf bytes.Buffer
	dropped, err := WriteBIO(&buf, append(docs, Document{ID: "empty"}))
	if err != nil || dropped != 0 {
		t.Fatal(dropped, err)
	}
	rep := NewReport()
	got, err := ParseBIO(&buf, "rt.bio", "x", rep)
	if err != nil {
		t.Fatal(err)
	}
	if !docsEqual(got, docs) {
		t.Errorf("round trip = %+v\nwant %+v", got, docs)
	}
	checkKinds(t, rep, nil)

	// Line breaks become spaces (offsets kept); nested entities are dropped and counted.
	buf.Reset()
	dropped, err = WriteBIO(&buf, []Document{{ID: "n", Text: "头\r\n痛", Entities: ents("0,4,sym", "3,4,x")}})
	if err != nil || dropped != 1 {
		t.Fatal(dropped, err)
	}
	if want := "头 B-sym\n  I-sym\n  I-sym\n痛 I-sym\n\n"; buf.String() != want {
		t.Errorf("WriteBIO = %q, want %q", buf.String(), want)
	}
}

func TestWriteBRAT(t *testing.T) {
	doc := Document{ID: "a/b", Text: "右下腹\n疼痛", Entities: ents("3,6,sym", "0,3,bod", "0,2,bod")}
	var txt, ann bytes.Buffer
	if err := WriteBRAT(&txt, &ann, doc); err != nil {
		t.Fatal(err)
	}
	want := "T1\tbod 0 3\t右下腹\nT2\tbod 0 2\t右下\nT3\tsym 3 6\t 疼痛\n"
	if txt.String() != doc.Text || ann.String() != want {
		t.Errorf("WriteBRAT = %q / %q, want %q", txt.String(), ann.String(), want)
	}
	if err := WriteBRAT(&txt, &ann, Document{ID: "bad", Text: "a", Entities: ents("0,2,x")}); err == nil {
		t.Error("entity outside the text: no error")
	}
	dir := filepath.Join(t.TempDir(), "brat")
	if err := WriteBRATDir(dir, []Document{doc}); err != nil {
		t.Fatal(err)
	}
	if err := WriteBRATDir(dir, []Document{{Text: "x"}}); err == nil {
		t.Error("document without ID: no error")
	}
	b, err := os.ReadFile(filepath.Join(dir, "a_b.ann"))
	if err != nil || string(b) != want {
		t.Errorf("a_b.ann = %q, %v", b, err)
	}
}

func TestSplit(t *testing.T) {
	ids := func(docs []Document) string {
		var s []string
		for _, d := range docs {
			s = append(s, d.ID)
		}
		return strings.Join(s, " ")
	}
	mk := func(ids ...string) []Document {
		var docs []Document
		for _, id := range ids {
			docs = append(docs, Document{ID: id})
		}
		return docs
	}
	tests := []struct {
		protocol         string
		docs             []Document
		train, dev, test string
		fails            bool
	}{
		{protocol: "ccks2017-split5", docs: mk("病史特点-1", "病史特点-2", "一般项目-5", "出院情况-10", "诊疗经过-11", "病史特点-21", "病史特点-300"),
			train: "病史特点-2", dev: "病史特点-1 诊疗经过-11 病史特点-21", test: "一般项目-5 出院情况-10 病史特点-300"},
		{protocol: "yidu-train-dev", docs: mk("yidu-part1-400", "yidu-part2-1", "yidu-part2-500", "yidu-part2-501", "yidu-part2-600"),
			train: "yidu-part1-400 yidu-part2-1 yidu-part2-500", dev: "yidu-part2-501 yidu-part2-600"},
		{protocol: "ccks2017-split5", docs: mk("病史特点-x"), fails: true},
		{protocol: "ccks2017-split5", docs: mk("病史特点-0"), fails: true},
		{protocol: "yidu-train-dev", docs: mk("cmeee-1"), fails: true},
		{protocol: "nope", fails: true},
	}
	for _, tc := range tests {
		train, dev, test, err := Split(tc.protocol, tc.docs)
		if tc.fails {
			if err == nil {
				t.Errorf("%s %s: no error", tc.protocol, ids(tc.docs))
			}
			continue
		}
		if err != nil || ids(train) != tc.train || ids(dev) != tc.dev || ids(test) != tc.test {
			t.Errorf("%s: %q / %q / %q, %v", tc.protocol, ids(train), ids(dev), ids(test), err)
		}
	}
	if got := Protocols(); !reflect.DeepEqual(got, []string{"ccks2017-split5", "yidu-train-dev"}) {
		t.Errorf("Protocols() = %v", got)
	}
	for _, p := range Protocols() {
		ds, err := ProtocolDataset(p)
		if err != nil || !strings.HasPrefix(p, ds) {
			t.Errorf("ProtocolDataset(%q) = %q, %v", p, ds, err)
		}
	}
	if _, err := ProtocolDataset("nope"); err == nil || !strings.Contains(err.Error(), "yidu-train-dev") {
		t.Errorf("unknown protocol: %v", err)
	}
}

func TestStats(t *testing.T) {
	docs := []Document{
		{Text: "右下腹疼痛", Entities: ents("0,5,sym", "0,3,bod", "0,3,bod2", "2,4,x")},
		{Text: "ab"},
	}
	s := Stats(docs)
	want := Summary{Documents: 2, Unlabeled: 1, Characters: 7, Entities: 4,
		PerType: map[string]int{"sym": 1, "bod": 1, "bod2": 1, "x": 1}, Nested: 3, Overlapping: 3, BIODropped: 3}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("Stats = %+v\nwant %+v", s, want)
	}
	if str := s.String(); !strings.Contains(str, "entities    4 (nested 3, overlapping 3, dropped by BIO 3)") {
		t.Errorf("String() = %s", str)
	}
}

func TestReportSummary(t *testing.T) {
	rep := NewReport()
	if rep.Summary() != "no problems" {
		t.Error(rep.Summary())
	}
	rep.Add(Problem{File: "f", Line: 3, DocID: "d", Kind: KindBadTag, Detail: "tag", Action: "refused: x"})
	rep.Add(Problem{File: "f", Kind: KindBIORepair, Action: "fixed: y"})
	if got := rep.Summary(); got != "bad-tag: 1\nbio-repair: 1" {
		t.Errorf("Summary() = %q", got)
	}
	if got := rep.Problems[0].String(); got != "f:3 [d]: bad-tag: tag; refused: x" {
		t.Errorf("String() = %q", got)
	}
}
