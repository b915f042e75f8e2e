package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/pipeline"
	"github.com/bingli/bingli/internal/device"
	"github.com/bingli/bingli/lexicon"
)

// maxLineBytes bounds one input line (one document) so a runaway input cannot exhaust memory.
const maxLineBytes = 64 << 20

func runTag(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "tag", "[flags] [FILE ...]", `
Tags clinical text and prints the entities.

Input (stdin when no FILE is given):
  --in jsonl  one {"id": ..., "text": "..."} per line (default)
  --in text   each FILE (or stdin) is one document, its id the file name
  --in lines  each line is one document, its id "FILE:LINE"
Output:
  --format jsonl  one {"id", "entities": [{"start","end","type","text","confidence"}]} per
                  input, in input order; start/end are code-point offsets into the given text,
                  end exclusive; type is the schema's own label
  --format brat   a folder (--out) of ID.txt/ID.ann pairs

A bad input line gets an error on stderr naming its line; the rest are still tagged and the
exit status is 1.`)
	useDict := fs.Bool("dict", false, "use the dictionary-only tagger (bidirectional maximum matching)")
	modelDir := fs.String("model", "", "use the trained model bundle in this folder")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "CPU threads for --model")
	deviceName := fs.String("device", "auto", "backend for --model: "+device.FlagHelp)
	dictPath := fs.String("lexicon", "", "dictionary file for --dict (default: the built-in dictionary)")
	schema := fs.String("schema", "", "label schema for --dict: "+strings.Join(lexicon.SchemaNames(), ", "))
	in := fs.String("in", "jsonl", "input format: jsonl, text or lines")
	format := fs.String("format", "jsonl", "output format: jsonl or brat")
	out := fs.String("out", "-", "output file (jsonl) or folder (brat)")
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	tagger, err := chooseTagger(e, *useDict, *modelDir, *dictPath, *schema, *deviceName, *threads)
	if err != nil {
		return err
	}
	var sink tagSink
	switch *format {
	case "jsonl":
		w, closeFn, err := openOut(e, *out)
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(w, 1<<16)
		sink = &jsonlSink{w: bw, done: func() error {
			if err := bw.Flush(); err != nil {
				closeFn()
				return err
			}
			return closeFn()
		}}
	case "brat":
		if *out == "-" {
			return usagef("--format brat needs --out FOLDER")
		}
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return err
		}
		sink = &bratSink{dir: *out}
	default:
		return usagef("--format %q: want jsonl or brat", *format)
	}
	inputs := args
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	failed := 0
	for _, name := range inputs {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := tagInput(ctx, e, tagger, name, *in, sink)
		failed += n
		if err != nil {
			sink.close()
			return err
		}
	}
	if err := sink.close(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	if failed > 0 {
		fmt.Fprintf(e.stderr, "bingli tag: %d inputs failed\n", failed)
		return errSomeFailed
	}
	return nil
}

// chooseTagger builds the dictionary tagger (--dict) or loads a model bundle (--model).
func chooseTagger(e *env, useDict bool, modelDir, dictPath, schema, deviceName string, threads int) (pipeline.Tagger, error) {
	switch {
	case useDict && modelDir != "":
		return nil, usagef("--dict and --model exclude each other")
	case useDict:
		if schema == "" {
			return nil, usagef("--schema is required (%s)", strings.Join(lexicon.SchemaNames(), ", "))
		}
		d, err := loadDictionary(dictPath)
		if err != nil {
			return nil, err
		}
		t, err := pipeline.NewDictTagger(d, schema)
		if err != nil {
			return nil, usagef("%v", err)
		}
		return t, nil
	case modelDir != "":
		be, _, err := device.Open(deviceName, threads, e.stderr)
		if err != nil {
			return nil, usagef("%v", err)
		}
		t, err := pipeline.LoadModelTagger(be, modelDir)
		if err != nil {
			return nil, err
		}
		if schema != "" && schema != t.Schema() {
			return nil, usagef("--schema %s, but the model tags %s", schema, t.Schema())
		}
		return t, nil
	}
	return nil, usagef("choose a tagger: --dict or --model BUNDLE")
}

// tagInput tags one input file ("-" is stdin) and returns how many of its documents failed.
func tagInput(ctx context.Context, e *env, t pipeline.Tagger, name, format string, sink tagSink) (int, error) {
	var r io.Reader = e.stdin
	label := "stdin"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		r, label = f, name
	}
	if format == "text" {
		b, err := io.ReadAll(io.LimitReader(r, maxLineBytes+1))
		if err != nil {
			return 0, fmt.Errorf("%s: %w", label, err)
		}
		if len(b) > maxLineBytes {
			fmt.Fprintf(e.stderr, "%s: document longer than %d bytes; skipped\n", label, maxLineBytes)
			return 1, nil
		}
		id, _ := json.Marshal(strings.TrimSuffix(filepath.Base(label), filepath.Ext(label)))
		q := &tagQueue{e: e, t: t, label: label, sink: sink, ctx: ctx}
		q.add(0, id, string(b))
		return q.failed, q.flush()
	}
	if format != "jsonl" && format != "lines" {
		return 0, usagef("--in %q: want jsonl, text or lines", format)
	}
	br := bufio.NewReaderSize(r, 1<<16)
	q := &tagQueue{e: e, t: t, label: label, sink: sink, ctx: ctx}
	for line := 1; ; line++ {
		if line%1024 == 0 && ctx.Err() != nil {
			return q.failed, ctx.Err()
		}
		b, tooLong, err := readLine(br)
		if err == io.EOF && len(b) == 0 && !tooLong {
			return q.failed, q.flush()
		}
		if err != nil && err != io.EOF {
			return q.failed, fmt.Errorf("%s: %w", label, err)
		}
		var werr error
		switch {
		case tooLong:
			fmt.Fprintf(e.stderr, "%s:%d: line longer than %d bytes; skipped\n", label, line, maxLineBytes)
			q.failed++
		case format == "lines":
			id, _ := json.Marshal(label + ":" + strconv.Itoa(line))
			werr = q.add(line, id, string(b))
		case len(bytes.TrimSpace(b)) > 0:
			id, txt, perr := parseTagLine(b)
			if perr != nil {
				fmt.Fprintf(e.stderr, "%s:%d: %v\n", label, line, perr)
				q.failed++
			} else {
				werr = q.add(line, id, txt)
			}
		}
		if werr != nil {
			return q.failed, werr
		}
		if err == io.EOF {
			return q.failed, q.flush()
		}
	}
}

// tagQueue collects documents and tags them in groups (a model tags a group's sentences in
// shared batches), writing results in input order.
type tagQueue struct {
	ctx    context.Context
	e      *env
	t      pipeline.Tagger
	label  string
	sink   tagSink
	failed int
	lines  []int
	ids    []json.RawMessage
	texts  []string
}

// tagGroup is how many documents a model tags together.
const tagGroup = 64

func (q *tagQueue) add(line int, id json.RawMessage, txt string) error {
	if !utf8.ValidString(txt) {
		q.report(line, errors.New("text is not valid UTF-8"))
		return nil
	}
	q.lines, q.ids, q.texts = append(q.lines, line), append(q.ids, id), append(q.texts, txt)
	if len(q.texts) >= tagGroup {
		return q.flush()
	}
	return nil
}

func (q *tagQueue) report(line int, err error) {
	if line > 0 {
		fmt.Fprintf(q.e.stderr, "%s:%d: %v\n", q.label, line, err)
	} else {
		fmt.Fprintf(q.e.stderr, "%s: %v\n", q.label, err)
	}
	q.failed++
}

func (q *tagQueue) flush() error {
	defer func() { q.lines, q.ids, q.texts = q.lines[:0], q.ids[:0], q.texts[:0] }()
	if len(q.texts) == 0 {
		return nil
	}
	if bt, ok := q.t.(pipeline.BatchTagger); ok && len(q.texts) > 1 {
		res, err := bt.TagDocuments(q.ctx, q.texts)
		if err == nil {
			for i := range res {
				if err := q.sink.write(q.ids[i], q.texts[i], res[i]); err != nil {
					return err
				}
			}
			return nil
		}
		// Fall through to one-by-one tagging so one bad document fails alone.
	}
	for i, txt := range q.texts {
		ents, err := q.t.Tag(txt)
		if err != nil {
			q.report(q.lines[i], err)
			continue
		}
		if err := q.sink.write(q.ids[i], txt, ents); err != nil {
			return err
		}
	}
	return nil
}

// readLine returns the next line without its terminator. A line longer than maxLineBytes is
// consumed and reported with tooLong.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > maxLineBytes {
			tooLong = true
			buf = buf[:0]
		} else if !tooLong {
			buf = append(buf, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		buf = bytes.TrimSuffix(buf, []byte{'\n'})
		buf = bytes.TrimSuffix(buf, []byte{'\r'})
		return buf, tooLong, err
	}
}

// parseTagLine decodes {"id": ..., "text": "..."}; other fields are ignored.
func parseTagLine(b []byte) (json.RawMessage, string, error) {
	var in struct {
		ID   json.RawMessage `json:"id"`
		Text *string         `json:"text"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, "", fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, err)
		}
		return nil, "", fmt.Errorf("invalid input line: %v", err)
	}
	if len(in.ID) == 0 || string(in.ID) == "null" {
		return nil, "", errors.New(`missing "id"`)
	}
	if in.Text == nil {
		return nil, "", errors.New(`missing "text"`)
	}
	return in.ID, *in.Text, nil
}

type tagSink interface {
	write(id json.RawMessage, text string, ents []pipeline.Entity) error
	close() error
}

type jsonlSink struct {
	w    *bufio.Writer
	done func() error
	buf  bytes.Buffer
}

func (s *jsonlSink) write(id json.RawMessage, _ string, ents []pipeline.Entity) error {
	if ents == nil {
		ents = []pipeline.Entity{}
	}
	s.buf.Reset()
	enc := json.NewEncoder(&s.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		ID       json.RawMessage   `json:"id"`
		Entities []pipeline.Entity `json:"entities"`
	}{id, ents}); err != nil {
		return err
	}
	_, err := s.w.Write(s.buf.Bytes())
	return err
}

func (s *jsonlSink) close() error { return s.done() }

type bratSink struct{ dir string }

func (s *bratSink) write(id json.RawMessage, text string, ents []pipeline.Entity) error {
	var name string
	if err := json.Unmarshal(id, &name); err != nil {
		name = string(id)
	}
	name = safeFileName(name)
	doc := corpus.Document{ID: name, Text: text}
	for _, en := range ents {
		doc.Entities = append(doc.Entities, corpus.Entity{Start: en.Start, End: en.End, Type: en.Type})
	}
	return corpus.WriteBRATDir(s.dir, []corpus.Document{doc})
}

func (s *bratSink) close() error { return nil }

// safeFileName keeps an id usable as a file name.
func safeFileName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == ':' {
			return '_'
		}
		return r
	}, s)
	if s == "" || s == "." || s == ".." {
		s = "_" + s
	}
	return s
}
