package corpus

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// The fuzz targets check that no reader panics on any input and that what they return
// keeps the reader invariants (checkDocs); the JSON lines and BIO targets also round-trip
// through the writers.

func FuzzReadCCKS2017Pair(f *testing.F) {
	f.Add([]byte("\ufeff患者头痛。\r\n右腿疼痛\r\n"), []byte("头痛\t2\t3\t症状和体征\r\n右腿\t6\t7\t身体部位\r\n"))
	f.Add([]byte("患者头痛啊"), []byte("者头痛\t3\t1\t症状\n头痛\t1\t2\t症状\n a\t0\t0\tX\n"))
	f.Add([]byte("\xff头痛"), []byte(""))
	f.Fuzz(func(t *testing.T, text, ann []byte) {
		rep := NewReport()
		doc := ParseCCKS2017Pair("s-1", "t", text, "a", ann, rep)
		checkDocs(t, []Document{doc})
		checkKinds(t, rep, rep.Counts)
	})
}

func FuzzReadYidu(f *testing.F) {
	f.Add([]byte(yiduPart1))
	f.Add([]byte(yiduPart2))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := NewReport()
		docs, err := ParseYidu(bytes.NewReader(data), "y", "yidu-part1", rep)
		if err != nil {
			t.Fatal(err)
		}
		checkDocs(t, docs)
	})
}

func FuzzReadCMeEE(f *testing.F) {
	f.Add([]byte("患者头痛伴发热。|||2    3    sym|||0    1    bod|||\r\n若禁止洗胃及；强酸|||6    5    pro|||8    3    dis|||\r\n"))
	f.Add([]byte("文本|||0    1|||a b c|||0    9    x|||\n未标注"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := NewReport()
		docs, err := ParseCMeEE(bytes.NewReader(data), "c", rep)
		if err != nil {
			t.Fatal(err)
		}
		checkDocs(t, docs)
	})
}

func FuzzReadCMedQANERJSON(f *testing.F) {
	f.Add([]byte(`{"text":"查tct和HIV","mention_data":[{"mention":"TCT","type":"test","offset":"1"},{"mention":"HIV","label":"disease","offset":5}]}`))
	f.Add([]byte(`{"text":"颞颌关节痛","mention_data":[{"mention":"颞颌关节","type":"body","offset":"1"},{"mention":"","type":"x","offset":"0"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := NewReport()
		docs, err := ParseCMedQANERJSON(bytes.NewReader(data), "q", "cmedqaner-train", rep)
		if err != nil {
			t.Fatal(err)
		}
		checkDocs(t, docs)
	})
}

func FuzzReadBIO(f *testing.F) {
	f.Add([]byte("\ufeff头 B-sym\n痛 I-sym\n\u3000 O\n腹 B_bod\n部 I_bod\n\n\n左 S-bod\n肺 B-bod\n门 M-bod\n区 E-bod\n"))
	f.Add([]byte("\n发 I-sym\n热 I-sym\n伴 O\n咳 B-sym\n嗽 I-dis\nX\n痰 Q-x\n  O\n\nABC B-drug\nD\tO\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := NewReport()
		docs, err := ParseBIO(bytes.NewReader(data), "b", "b", rep)
		if err != nil {
			t.Fatal(err)
		}
		checkDocs(t, docs)
		if len(docs) > 0 && strings.HasPrefix(docs[0].Text, bom) {
			return // a leading BOM is dropped on reading; no round trip
		}
		var buf bytes.Buffer
		if dropped, err := WriteBIO(&buf, docs); err != nil || dropped != 0 {
			t.Fatalf("WriteBIO: %d dropped, %v", dropped, err)
		}
		back, err := ParseBIO(&buf, "b2", "b", NewReport())
		if err != nil {
			t.Fatal(err)
		}
		want := make([]Document, len(docs))
		for i, d := range docs {
			d.Text = strings.Map(func(r rune) rune {
				if lineBreak(r) {
					return ' '
				}
				return r
			}, d.Text)
			want[i] = d
		}
		if !docsEqual(back, want) {
			t.Fatalf("BIO round trip:\n%+v\nwant\n%+v", back, want)
		}
	})
}

func FuzzReadJSONL(f *testing.F) {
	f.Add([]byte(`{"id":"a","text":"患者头痛","entities":[{"start":2,"end":4,"type":"sym"},{"start":0,"end":2,"type":"per","text":"患者"}]}` + "\n" +
		`{"id":"b","entities":[{"start":2,"end":4,"type":"sym","text":"头痛","confidence":0.9}]}`))
	f.Add([]byte(`{"text":"右下腹疼痛","entities":[{"start":0,"end":5,"type":"sym"},{"start":0,"end":3,"type":"bod"},{"start":2,"end":4,"type":"x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := NewReport()
		docs, err := ParseJSONL(bytes.NewReader(data), "j", rep)
		if err != nil {
			t.Fatal(err)
		}
		checkDocs(t, docs)
		Stats(docs)
		roundTrip := true
		for _, d := range docs {
			if d.Text == "" {
				roundTrip = roundTrip && len(d.Entities) == 0 // tagger output has no text to write
				continue
			}
			checkToBIO(t, d)
			if err := WriteBRAT(io.Discard, io.Discard, d); err != nil {
				t.Fatal(err)
			}
		}
		if !roundTrip {
			return
		}
		var buf bytes.Buffer
		if err := WriteJSONL(&buf, docs); err != nil {
			t.Fatal(err)
		}
		back, err := ParseJSONL(&buf, "j2", NewReport())
		if err != nil {
			t.Fatal(err)
		}
		if !docsEqual(back, docs) {
			t.Fatalf("JSON lines round trip:\n%+v\nwant\n%+v", back, docs)
		}
	})
}

// checkToBIO asserts that FromBIO(ToBIO(d)) keeps a subset of d's entities, no two
// overlapping, and that the dropped count accounts for the rest.
func checkToBIO(t *testing.T, d Document) {
	t.Helper()
	tags, dropped := ToBIO(d)
	back, _, err := FromBIO([]rune(d.Text), tags)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Entities)+dropped != len(d.Entities) {
		t.Fatalf("ToBIO kept %d and dropped %d of %d entities", len(back.Entities), dropped, len(d.Entities))
	}
	in := map[Entity]bool{}
	for _, e := range d.Entities {
		in[e] = true
	}
	for i, e := range back.Entities {
		if !in[e] || (i > 0 && back.Entities[i-1].End > e.Start) {
			t.Fatalf("ToBIO/FromBIO gave %+v from %+v", back.Entities, d.Entities)
		}
	}
}
