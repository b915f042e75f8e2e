package corpus

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseCCKS2017Pair(t *testing.T) {
	tests := []struct {
		name, text, ann string
		noAnn           bool
		wantText        string
		want            []Entity
		kinds           map[string]int
	}{
		{name: "BOM, CRLF and inclusive ends", text: "\ufeff患者头痛。\r\n右腿疼痛\r\n",
			ann:      "\ufeff头痛\t2\t3\t症状和体征\r\n右腿\t6\t7\t身体部位\r\n\r\n",
			wantText: "患者头痛。\n右腿疼痛\n", want: ents("2,4,症状和体征", "6,8,身体部位")},
		{name: "empty annotation file", text: "收入院。", ann: "", wantText: "收入院。"},
		{name: "unlabeled", text: "收入院。\r\n", noAnn: true, wantText: "收入院。\n"},
		{name: "mismatching mention refused", text: "患者腹痛", ann: "头痛\t2\t3\t症状\n", wantText: "患者腹痛",
			kinds: map[string]int{KindMentionMismatch: 1}},
		{name: "mention with surrounding whitespace", text: "a右下腹痛b", ann: " 右下腹痛\t1\t4\t症状\n",
			wantText: "a右下腹痛b", want: ents("1,5,症状"), kinds: map[string]int{KindWhitespaceEdge: 1}},
		{name: "span with surrounding whitespace", text: "a 右下腹痛b", ann: " 右下腹痛\t1\t5\t症状\n",
			wantText: "a 右下腹痛b", want: ents("2,6,症状"), kinds: map[string]int{KindWhitespaceEdge: 1}},
		{name: "reversed span whose swap matches", text: "患者头痛啊", ann: "者头痛\t3\t1\t症状\n",
			wantText: "患者头痛啊", want: ents("1,4,症状"), kinds: map[string]int{KindReversedSpan: 1}},
		{name: "reversed span whose swap does not match", text: "患者头痛啊", ann: "头痛啊\t3\t1\t症状\n",
			wantText: "患者头痛啊", kinds: map[string]int{KindReversedSpan: 1}},
		{name: "offsets one rune off", text: "患者头痛", ann: "头痛\t1\t2\t症状\n",
			wantText: "患者头痛", want: ents("2,4,症状"), kinds: map[string]int{KindShiftedOffset: 1}},
		{name: "letter case", text: "查ct", ann: "CT\t1\t2\t检查\n", wantText: "查ct", want: ents("1,3,检查"),
			kinds: map[string]int{KindCaseMismatch: 1}},
		{name: "out of range", text: "头痛", ann: "头痛\t10\t11\t症状\n头痛\t0\t2\t症状\n", wantText: "头痛",
			kinds: map[string]int{KindOutOfRange: 2}},
		{name: "malformed lines", text: "头痛", ann: "头痛\t0\t症状\n头痛\ta\t1\t症状\n头痛\t0\t1\t\n",
			wantText: "头痛", kinds: map[string]int{KindMalformedLine: 2, KindEmptyType: 1}},
		{name: "duplicate and tab in mention", text: "a\tb头痛", ann: "头痛\t3\t4\t症状\n头痛\t3\t4\t症状\na\tb\t0\t2\tX\n",
			wantText: "a\tb头痛", want: ents("0,3,X", "3,5,症状"), kinds: map[string]int{KindDuplicateEntity: 1}},
		{name: "invalid UTF-8", text: "\xff头痛", ann: "头痛\t1\t2\t症状\n", wantText: "\ufffd头痛", want: ents("1,3,症状"),
			kinds: map[string]int{KindInvalidUTF8: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := NewReport()
			var ann []byte
			if !tc.noAnn {
				ann = []byte(tc.ann)
			}
			doc := ParseCCKS2017Pair("病史特点-1", "t.txtoriginal.txt", []byte(tc.text), "t.txt", ann, rep)
			if !docsEqual([]Document{doc}, []Document{{ID: "病史特点-1", Text: tc.wantText, Entities: tc.want}}) {
				t.Errorf("got %q %q %v, want %q %v", doc.ID, doc.Text, doc.Entities, tc.wantText, tc.want)
			}
			checkKinds(t, rep, tc.kinds)
		})
	}
}

// writeFiles creates files (path relative to dir → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadCCKS2017Layout(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"Train/病史特点/病史特点-2.txtoriginal.txt":  "头痛。\r\n",
		"Train/病史特点/病史特点-2.txt":              "头痛\t0\t1\t症状和体征\r\n",
		"Train/病史特点/病史特点-10.txtoriginal.txt": "腹痛",
		"Train/病史特点/病史特点-10.txt":             "",
		"Train/一般项目/一般项目-2.txtoriginal.txt":  "患者",
		"Train/一般项目/一般项目-2.txt":              "",
		"Train/一般项目/一般项目-10.txtoriginal.txt": "无注释",
		"Train/一般项目/readme.md":               "x",
		"Train/一般项目/一般项目-7.txt":              "孤立\t0\t1\tX",
		"Train/notes.txt":                    "x",
		"Test/病史特点/病史特点-301.txtoriginal.txt": "发热\r\n",
		"Test/病史特点/病史特点-301.txt":             "发热\t0\t1\t症状和体征\r\n",
	})
	wantIDs := []string{"一般项目-2", "病史特点-2", "一般项目-10", "病史特点-10"}
	for _, path := range []string{root, filepath.Join(root, "Train")} {
		ds, err := ReadCCKS2017(path)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range ds.Docs {
			ids = append(ids, d.ID)
		}
		if !reflect.DeepEqual(ids, wantIDs) {
			t.Errorf("%s: ids %v, want %v", path, ids, wantIDs)
		}
		if d := ds.Docs[1]; d.Text != "头痛。\n" || !reflect.DeepEqual(d.Entities, ents("0,2,症状和体征")) {
			t.Errorf("%s: doc %+v", path, d)
		}
		checkKinds(t, ds.Report, map[string]int{KindUnexpectedFile: 3, KindMissingAnnotation: 1})
	}
	ds, err := ReadCCKS2017Unlabeled(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Docs) != 1 || ds.Docs[0].ID != "病史特点-301" || ds.Docs[0].Text != "发热\n" || len(ds.Docs[0].Entities) != 0 {
		t.Errorf("unlabeled: %+v", ds.Docs)
	}
	checkKinds(t, ds.Report, map[string]int{KindUnexpectedFile: 1})
	writeFiles(t, root, map[string]string{"Train/出院情况/出院情况-2.txtoriginal.txt": "出院", "Train/出院情况/出院情况-2.txt": ""})
	if ds, err = ReadCCKS2017(root); err != nil {
		t.Fatal(err)
	}
	checkKinds(t, ds.Report, map[string]int{KindUnexpectedFile: 3, KindMissingAnnotation: 1, KindMissingSection: 1})
	if _, err := ReadCCKS2017(t.TempDir()); err == nil {
		t.Error("empty directory: no error")
	}
}

const (
	yiduPart1 = "\ufeff" + `{"originalText":"患者头痛。","entities":[{"label_type":"症状","overlap":0,"start_pos":2,"end_pos":4}]}` + "\n" +
		`{"originalText":"双肺 纹理","entities":[{"label_type":"解剖部位","start_pos":"0","end_pos":3}]}` + "\n\n"
	yiduPart2 = "\ufeff" + `{"originalText":"患者头痛。","entities":[]}` + "\r\n" +
		"not json\r\n" +
		`{"originalText":"腹痛","entities":[{"label_type":"症状","start_pos":0}]}` + "\r\n" +
		`{"originalText":"腹痛","entities":[{"label_type":"症状","start_pos":0,"end_pos":5},{"label_type":"","start_pos":0,"end_pos":1},{"label_type":"X","start_pos":1,"end_pos":1}]}` + "\r\n\r\n"
)

func TestReadYidu(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{yiduParts[0]: yiduPart1, yiduParts[1]: yiduPart2})
	ds, err := Read("yidu", dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Document{
		{ID: "yidu-part1-1", Text: "患者头痛。", Entities: ents("2,4,症状")},
		{ID: "yidu-part1-2", Text: "双肺 纹理", Entities: ents("0,2,解剖部位")},
		{ID: "yidu-part2-1", Text: "患者头痛。"},
		{ID: "yidu-part2-3", Text: "腹痛"},
		{ID: "yidu-part2-4", Text: "腹痛"},
	}
	if !docsEqual(ds.Docs, want) {
		t.Errorf("docs = %+v\nwant %+v", ds.Docs, want)
	}
	checkKinds(t, ds.Report, map[string]int{KindWhitespaceEdge: 1, KindDuplicateText: 2, KindMalformedLine: 2,
		KindOutOfRange: 1, KindEmptyType: 1, KindEmptySpan: 1})
	one, err := ReadYidu(filepath.Join(dir, yiduParts[0]))
	if err != nil {
		t.Fatal(err)
	}
	if !docsEqual(one.Docs, want[:2]) {
		t.Errorf("single file: %+v", one.Docs)
	}
	if _, err := ReadYidu(t.TempDir()); err == nil {
		t.Error("directory without parts: no error")
	}
}

func TestParseCMeEE(t *testing.T) {
	in := "患者头痛伴发热。|||2    3    sym|||0    1    bod|||2    3    sym|||\r\n" +
		"右下腹疼痛|||0    2    bod|||0    4    sym|||1\t2\tbod|||\r\n" +
		"若禁止洗胃及；强酸|||6    5    pro|||8    3    dis|||\r\n" +
		"\r\n" +
		"文本|||0    1|||a b c|||0    9    x|||\r\n" +
		"未标注的句子"
	rep := NewReport()
	docs, err := ParseCMeEE(strings.NewReader(in), "train_data.txt", rep)
	if err != nil {
		t.Fatal(err)
	}
	want := []Document{
		{ID: "cmeee-1", Text: "患者头痛伴发热。", Entities: ents("0,2,bod", "2,4,sym")},
		{ID: "cmeee-2", Text: "右下腹疼痛", Entities: ents("0,5,sym", "0,3,bod", "1,3,bod")},
		{ID: "cmeee-3", Text: "若禁止洗胃及；强酸"},
		{ID: "cmeee-5", Text: "文本"},
		{ID: "cmeee-6", Text: "未标注的句子"},
	}
	if !docsEqual(docs, want) {
		t.Errorf("docs = %+v\nwant %+v", docs, want)
	}
	checkKinds(t, rep, map[string]int{KindDuplicateEntity: 1, KindEmptySpan: 1, KindReversedSpan: 1,
		KindMalformedLine: 2, KindOutOfRange: 1})
}

func TestParseBIO(t *testing.T) {
	in := "\ufeff头 B-sym\n痛 I-sym\n\u3000 O\n腹 B_bod\n部 I_bod\n\n\n" +
		"左 S-bod\n肺 B-bod\n门 M-bod\n区 E-bod\n" +
		"\n发 I-sym\n热 I-sym\n伴 O\n咳 B-sym\n嗽 I-dis\nX\n痰 Q-x\n  O\n" +
		"\nABC B-drug\nD\tO\n" +
		"\n\u3000 B-bod\n头 I-bod \n"
	rep := NewReport()
	docs, err := ParseBIO(strings.NewReader(in), "x.bio", "x", rep)
	if err != nil {
		t.Fatal(err)
	}
	want := []Document{
		{ID: "x-1", Text: "头痛\u3000腹部", Entities: ents("0,2,sym", "3,5,bod")},
		{ID: "x-2", Text: "左肺门区", Entities: ents("0,1,bod", "1,4,bod")},
		{ID: "x-3", Text: "发热伴咳嗽痰 ", Entities: ents("0,2,sym", "3,4,sym", "4,5,dis")},
		{ID: "x-4", Text: "ABCD", Entities: ents("0,3,drug")},
		{ID: "x-5", Text: "\u3000头", Entities: ents("1,2,bod")},
	}
	if !docsEqual(docs, want) {
		t.Errorf("docs = %+v\nwant %+v", docs, want)
	}
	checkKinds(t, rep, map[string]int{KindBIORepair: 2, KindMalformedLine: 1, KindBadTag: 1,
		KindMultiRuneToken: 1, KindWhitespaceEdge: 1})
}

func TestSpreadTag(t *testing.T) {
	tests := []struct {
		tag  string
		want string
	}{
		{"B-x", "B-x I-x I-x"}, {"I_x", "I-x I-x I-x"}, {"M-x", "I-x I-x I-x"},
		{"E-x", "I-x I-x E-x"}, {"S-x", "B-x I-x E-x"}, {"O", "O O O"}, {"??", "?? ?? ??"},
	}
	for _, tc := range tests {
		if got := strings.Join(spreadTag(tc.tag, 3), " "); got != tc.want {
			t.Errorf("spreadTag(%q, 3) = %q, want %q", tc.tag, got, tc.want)
		}
	}
}

func TestParseJSONL(t *testing.T) {
	in := `{"id":"a","text":"患者头痛","entities":[{"start":2,"end":4,"type":"sym"},{"start":0,"end":2,"type":"per","text":"患者"}]}` + "\n" +
		`{"id":"b","entities":[{"start":2,"end":4,"type":"sym","text":"头痛","confidence":0.9},{"start":3,"end":3,"type":"x"},{"start":-1,"end":2,"type":"x"},{"start":4,"end":2,"type":"x"},{"start":2,"end":4,"type":"sym"}]}` + "\n" +
		`{"text":"腹痛","entities":[{"start":0,"end":2,"type":"sym","text":"头痛"},{"start":0,"end":2}]}` + "\r\n" +
		`{"id":"a","text":" 痛 ","entities":[{"start":0,"end":2,"type":"sym"},{"start":2,"end":1,"type":"sym","text":"痛"}]}` + "\n" +
		"garbage\n\n" +
		`{"id":"c","text":"x","entities":[{"type":"sym","end":1}]}`
	rep := NewReport()
	docs, err := ParseJSONL(strings.NewReader(in), "dir/f.jsonl", rep)
	if err != nil {
		t.Fatal(err)
	}
	want := []Document{
		{ID: "a", Text: "患者头痛", Entities: ents("0,2,per", "2,4,sym")},
		{ID: "b", Entities: ents("2,4,sym")},
		{ID: "f-3", Text: "腹痛"},
		{ID: "a", Text: " 痛 ", Entities: ents("0,2,sym")},
		{ID: "c", Text: "x"},
	}
	if !docsEqual(docs, want) {
		t.Errorf("docs = %+v\nwant %+v", docs, want)
	}
	checkKinds(t, rep, map[string]int{KindEmptySpan: 1, KindOutOfRange: 1, KindReversedSpan: 2, KindDuplicateEntity: 1,
		KindMissingID: 1, KindMentionMismatch: 1, KindEmptyType: 1, KindDuplicateID: 1, KindMalformedLine: 2})
}

func TestReadCMedQANER(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"train.json": `{"text":"查tct和HIV","mention_data":[{"mention":"TCT","type":"test","offset":"1"},{"mention":"HIV","label":"disease","offset":5}]}` + "\n" +
			`{"text":"颞颌关节痛","segment":["x"],"mention_data":[{"mention":"颞颌关节","guid":"g","type":"body","offset":"1"},{"mention":"关节","type":"body","offset":"2"},{"mention":"","type":"x","offset":"0"}]}` + "\n",
		"train.txt": "查 O\nt B_test\nc I_test\nt I_test\n和 O\nH B_disease\nI I_disease\nV I_disease\n\n" +
			"颞 O\n颌 B_body\n关 I_body\n节 I_body\n痛 I_body\n\n",
	})
	want := []Document{
		{ID: "cmedqaner-train-1", Text: "查tct和HIV", Entities: ents("1,4,test", "5,8,disease")},
		{ID: "cmedqaner-train-2", Text: "颞颌关节痛", Entities: ents("0,4,body", "2,4,body")},
	}
	for _, tc := range []struct{ path, split string }{{dir, "train"}, {filepath.Join(dir, "train.json"), ""}} {
		ds, err := ReadCMedQANER(tc.path, tc.split)
		if err != nil {
			t.Fatal(err)
		}
		if !docsEqual(ds.Docs, want) {
			t.Errorf("docs = %+v\nwant %+v", ds.Docs, want)
		}
		checkKinds(t, ds.Report, map[string]int{KindCaseMismatch: 1, KindShiftedOffset: 1, KindMalformedLine: 1, KindCrossCheck: 1})
	}
	ds, err := Read("cmedqaner", filepath.Join(dir, "train.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Docs) != 2 || !reflect.DeepEqual(ds.Docs[1].Entities, ents("1,5,body")) {
		t.Errorf("BIO twin read: %+v", ds.Docs)
	}
	for _, tc := range []struct{ path, split string }{{dir, "dev"}, {dir, "bogus"}, {filepath.Join(dir, "train.json"), "test"}} {
		if _, err := ReadCMedQANER(tc.path, tc.split); err == nil {
			t.Errorf("ReadCMedQANER(%q, %q): no error", tc.path, tc.split)
		}
	}
}

func TestReadDispatch(t *testing.T) {
	names := DatasetNames()
	if len(names) != len(readers) || names[0] != "ccks2017" {
		t.Errorf("DatasetNames() = %v", names)
	}
	if _, err := Read("nope", "."); err == nil || !strings.Contains(err.Error(), "ccks2017") {
		t.Errorf("unknown dataset: err = %v", err)
	}
	for _, name := range names {
		if _, err := Read(name, filepath.Join(t.TempDir(), "missing")); err == nil {
			t.Errorf("%s on a missing path: no error", name)
		}
	}
}

func TestLongLine(t *testing.T) {
	text := strings.Repeat("痛", 1<<20) // 3 MB line
	in := `{"originalText":"` + text + `","entities":[{"label_type":"症状","start_pos":1048570,"end_pos":1048576}]}`
	rep := NewReport()
	docs, err := ParseYidu(strings.NewReader(in), "big.txt", "yidu-big", rep)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || !reflect.DeepEqual(docs[0].Entities, ents("1048570,1048576,症状")) {
		t.Errorf("long line: %d docs", len(docs))
	}
	checkKinds(t, rep, nil)
}
