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
	"strconv"
	"strings"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/pipeline"
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
	dictPath := fs.String("lexicon", "", "dictionary file for --dict (default: the built-in dictionary)")
	schema := fs.String("schema", "", "label schema: "+strings.Join(lexicon.SchemaNames(), ", "))
	in := fs.String("in", "jsonl", "input format: jsonl, text or lines")
	format := fs.String("format", "jsonl", "output format: jsonl or brat")
	out := fs.String("out", "-", "output file (jsonl) or folder (brat)")
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if !*useDict {
		return usagef("choose a tagger: --dict (the model taggers arrive with trained bundles)")
	}
	if *schema == "" {
		return usagef("--schema is required (%s)", strings.Join(lexicon.SchemaNames(), ", "))
	}
	d, err := loadDictionary(*dictPath)
	if err != nil {
		return err
	}
	tagger, err := pipeline.NewDictTagger(d, *schema)
	if err != nil {
		return usagef("%v", err)
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
		return tagOne(e, t, label, 0, id, string(b), sink)
	}
	if format != "jsonl" && format != "lines" {
		return 0, usagef("--in %q: want jsonl, text or lines", format)
	}
	br := bufio.NewReaderSize(r, 1<<16)
	failed := 0
	for line := 1; ; line++ {
		if line%1024 == 0 && ctx.Err() != nil {
			return failed, ctx.Err()
		}
		b, tooLong, err := readLine(br)
		if err == io.EOF && len(b) == 0 && !tooLong {
			return failed, nil
		}
		if err != nil && err != io.EOF {
			return failed, fmt.Errorf("%s: %w", label, err)
		}
		if tooLong {
			fmt.Fprintf(e.stderr, "%s:%d: line longer than %d bytes; skipped\n", label, line, maxLineBytes)
			failed++
			continue
		}
		if format == "lines" {
			id, _ := json.Marshal(label + ":" + strconv.Itoa(line))
			n, werr := tagOne(e, t, label, line, id, string(b), sink)
			failed += n
			if werr != nil {
				return failed, werr
			}
		} else if len(bytes.TrimSpace(b)) > 0 {
			id, txt, perr := parseTagLine(b)
			if perr != nil {
				fmt.Fprintf(e.stderr, "%s:%d: %v\n", label, line, perr)
				failed++
			} else {
				n, werr := tagOne(e, t, label, line, id, txt, sink)
				failed += n
				if werr != nil {
					return failed, werr
				}
			}
		}
		if err == io.EOF {
			return failed, nil
		}
	}
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

func tagOne(e *env, t pipeline.Tagger, label string, line int, id json.RawMessage, txt string, sink tagSink) (int, error) {
	ents, err := t.Tag(txt)
	if err != nil {
		if line > 0 {
			fmt.Fprintf(e.stderr, "%s:%d: %v\n", label, line, err)
		} else {
			fmt.Fprintf(e.stderr, "%s: %v\n", label, err)
		}
		return 1, nil
	}
	return 0, sink.write(id, txt, ents)
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
