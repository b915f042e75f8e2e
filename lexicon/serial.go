package lexicon

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
)

// Serialised form (all integers little-endian or unsigned LEB128 varints):
//
//	magic    8 bytes "bingliLX"
//	version  uint16 (formatVersion)
//	bodyLen  uint32, the length of the uncompressed body
//	zstd stream of the body (one frame, with checksum):
//	  sources  count, then per source: length, UTF-8 bytes
//	  combos   count, then per combination: entry count (≥ 1), then per
//	           entry: type byte, origin byte, source index
//	  alphabet count, then the runes in code order
//	  terms    count
//	  slots    count, then per slot zigzag(base[s]-s) for base ≥ 0 and
//	           zigzag(base[s]) for base < 0 (tagged in the low bit), then
//	           per slot zigzag(check[s]-s)

const (
	magic         = "bingliLX"
	formatVersion = 1
	headerLen     = len(magic) + 2 + 4
	maxBodyLen    = 1 << 30
)

func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// body returns the uncompressed body.
func (d *Dictionary) body() []byte {
	b := make([]byte, 0, 3*len(d.base)+len(d.alphabet)*3+1024)
	b = appendUvarint(b, uint64(len(d.sources)))
	for _, s := range d.sources {
		b = appendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = appendUvarint(b, uint64(len(d.combos)))
	for _, c := range d.combos {
		b = appendUvarint(b, uint64(len(c)))
		for _, e := range c {
			b = append(b, byte(e.typ), byte(e.origin))
			b = appendUvarint(b, uint64(e.src))
		}
	}
	b = appendUvarint(b, uint64(len(d.alphabet)))
	for _, r := range d.alphabet {
		b = appendUvarint(b, uint64(r))
	}
	b = appendUvarint(b, uint64(d.terms))
	b = appendUvarint(b, uint64(len(d.base)))
	for s, v := range d.base {
		if v >= 0 {
			b = appendUvarint(b, zigzag(int64(v)-int64(s))<<1)
		} else {
			b = appendUvarint(b, zigzag(int64(v))<<1|1)
		}
	}
	for s, v := range d.check {
		b = appendUvarint(b, zigzag(int64(v)-int64(s)))
	}
	return b
}

func header(bodyLen int) []byte {
	h := make([]byte, 0, headerLen)
	h = append(h, magic...)
	h = binary.LittleEndian.AppendUint16(h, formatVersion)
	return binary.LittleEndian.AppendUint32(h, uint32(bodyLen))
}

// WriteTo writes the serialised dictionary to w. The output is
// deterministic for a given dictionary and zstd encoder version.
func (d *Dictionary) WriteTo(w io.Writer) (int64, error) {
	body := d.body()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression),
		zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<22))
	if err != nil {
		return 0, fmt.Errorf("lexicon: %w", err)
	}
	out := append(header(len(body)), enc.EncodeAll(body, nil)...)
	n, err := w.Write(out)
	if err != nil {
		return int64(n), fmt.Errorf("lexicon: writing dictionary: %w", err)
	}
	return int64(n), nil
}

// Hash returns the hex SHA-256 of the uncompressed serialisation (magic,
// version, body length and body), which identifies the dictionary's content
// in model bundles independently of the zstd encoder.
func (d *Dictionary) Hash() string {
	d.hashOnce.Do(func() {
		body := d.body()
		h := sha256.New()
		h.Write(header(len(body)))
		h.Write(body)
		d.hash = hex.EncodeToString(h.Sum(nil))
	})
	return d.hash
}

// Read reads a dictionary written by WriteTo. r must hold the serialisation
// and nothing after it. Malformed, truncated or corrupt input gives an
// error, never a panic.
func Read(r io.Reader) (*Dictionary, error) {
	hdr := make([]byte, headerLen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("lexicon: reading header: %w", err)
	}
	if string(hdr[:len(magic)]) != magic {
		return nil, errors.New("lexicon: not a bingli dictionary (bad magic)")
	}
	if v := binary.LittleEndian.Uint16(hdr[len(magic):]); v != formatVersion {
		return nil, fmt.Errorf("lexicon: unsupported dictionary format version %d (want %d)", v, formatVersion)
	}
	bodyLen := binary.LittleEndian.Uint32(hdr[len(magic)+2:])
	if bodyLen > maxBodyLen {
		return nil, fmt.Errorf("lexicon: body length %d exceeds the limit %d", bodyLen, maxBodyLen)
	}
	dec, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxMemory(maxBodyLen), zstd.WithDecoderMaxWindow(1<<25))
	if err != nil {
		return nil, fmt.Errorf("lexicon: %w", err)
	}
	defer dec.Close()
	body, err := io.ReadAll(io.LimitReader(dec, int64(bodyLen)+1))
	if err != nil {
		return nil, fmt.Errorf("lexicon: decompressing body: %w", err)
	}
	if len(body) != int(bodyLen) {
		return nil, fmt.Errorf("lexicon: body is %d bytes, header says %d", len(body), bodyLen)
	}
	d, err := parseBody(body)
	if err != nil {
		return nil, fmt.Errorf("lexicon: corrupt dictionary: %w", err)
	}
	return d, nil
}

// reader decodes a body; the first error sticks and later reads return 0.
type reader struct {
	buf []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("at byte %d: %s", r.off, fmt.Sprintf(format, args...))
	}
}

func (r *reader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf[r.off:])
	if n <= 0 {
		r.fail("bad or truncated %s", what)
		return 0
	}
	r.off += n
	return v
}

// count reads a count of items taking at least minBytes each, so a corrupt
// count cannot make the reader allocate more than the body justifies.
func (r *reader) count(what string, minBytes int) int {
	v := r.uvarint(what + " count")
	if r.err == nil && v > uint64((len(r.buf)-r.off)/minBytes) {
		r.fail("%s count %d exceeds the remaining data", what, v)
		return 0
	}
	return int(v)
}

func (r *reader) byte(what string) byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.buf) {
		r.fail("truncated %s", what)
		return 0
	}
	r.off++
	return r.buf[r.off-1]
}

func (r *reader) int32(what string, v int64) int32 {
	if v < -1<<31 || v >= 1<<31 {
		r.fail("%s %d out of range", what, v)
		return 0
	}
	return int32(v)
}

func parseBody(body []byte) (*Dictionary, error) {
	r := &reader{buf: body}
	sources := make([]string, r.count("source", 2))
	for i := range sources {
		n := r.count("source length", 1)
		if r.err != nil {
			break
		}
		s := string(body[r.off : r.off+n])
		r.off += n
		if s == "" || !utf8.ValidString(s) {
			r.fail("source %d is empty or not UTF-8", i)
		}
		sources[i] = s
	}
	combos := make([][]entry, r.count("combination", 4))
	for i := range combos {
		c := make([]entry, r.count("entry", 3))
		for k := range c {
			c[k].typ = CanonicalType(r.byte("entry type"))
			c[k].origin = Origin(r.byte("entry origin"))
			src := r.uvarint("entry source")
			if src >= uint64(len(sources)) {
				r.fail("entry source %d out of range", src)
			}
			c[k].src = uint32(src)
		}
		combos[i] = c
	}
	alphabet := make([]rune, r.count("alphabet", 1))
	for i := range alphabet {
		v := r.uvarint("rune")
		if v > utf8.MaxRune {
			r.fail("rune %d out of range", v)
		}
		alphabet[i] = rune(v)
	}
	terms := r.uvarint("term count")
	slots := r.count("slot", 2)
	base := make([]int32, slots)
	check := make([]int32, slots)
	for s := range base {
		u := r.uvarint("base")
		if u&1 == 0 {
			base[s] = r.int32("base", unzigzag(u>>1)+int64(s))
		} else {
			base[s] = r.int32("base", unzigzag(u>>1))
		}
	}
	for s := range check {
		check[s] = r.int32("check", unzigzag(r.uvarint("check"))+int64(s))
	}
	if r.err == nil && r.off != len(body) {
		r.fail("%d bytes of trailing data", len(body)-r.off)
	}
	if r.err != nil {
		return nil, r.err
	}
	if terms > uint64(slots) {
		return nil, fmt.Errorf("term count %d exceeds the slot count %d", terms, slots)
	}
	return newDictionary(base, check, alphabet, newCodeTable(alphabet), combos, sources, int(terms))
}
