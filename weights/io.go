package weights

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// MaxSize caps the size of a safetensors stream that Parse, Read and
// ReadFile accept: the file itself, and for zstd input the decompressed
// stream. 1 GiB holds every model bingli ships (a float32 BERT-base is about
// 0.4 GB) and still fits a browser's wasm memory; a zstd "bomb" that expands
// beyond it is an error wrapping ErrTooLarge, found after decoding at most
// MaxSize+1 bytes. ParseLimit takes another cap.
const MaxSize = 1 << 30

// zstdMagic starts every zstd frame (RFC 8878).
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// Parse parses a safetensors file held in memory, zstd-compressed or not
// (detected by the zstd frame magic). Uncompressed tensors alias b.
func Parse(b []byte) (*File, error) { return ParseLimit(b, MaxSize) }

// ParseLimit is Parse with maxSize in place of MaxSize.
func ParseLimit(b []byte, maxSize int64) (*File, error) {
	if bytes.HasPrefix(b, zstdMagic) {
		var err error
		if b, err = decompress(b, maxSize); err != nil {
			return nil, err
		}
	} else if int64(len(b)) > maxSize {
		return nil, fmt.Errorf("file of %d bytes exceeds the %d-byte limit: %w", len(b), maxSize, ErrTooLarge)
	}
	return parseSafetensors(b)
}

func decompress(b []byte, maxSize int64) ([]byte, error) {
	dec, err := zstd.NewReader(bytes.NewReader(b),
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxMemory(uint64(maxSize)+1))
	if err != nil {
		return nil, fmt.Errorf("zstd: %w: %w", err, ErrInvalid)
	}
	defer dec.Close()
	out, err := io.ReadAll(io.LimitReader(dec, maxSize+1))
	switch {
	case errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) ||
		int64(len(out)) > maxSize:
		return nil, fmt.Errorf("zstd stream decompresses to more than the %d-byte limit: %w", maxSize, ErrTooLarge)
	case err != nil:
		return nil, fmt.Errorf("zstd: %w: %w", err, ErrInvalid)
	}
	return out, nil
}

// Read reads a whole safetensors stream (zstd-compressed or not) from r
// and parses it. At most MaxSize+1 bytes are read; the buffer grows with
// what r really delivers, never with what the header claims.
func Read(r io.Reader) (*File, error) {
	b, err := readAllLimit(r, MaxSize)
	if err != nil {
		return nil, fmt.Errorf("read safetensors: %w", err)
	}
	return Parse(b)
}

// ReadFile reads and parses a .safetensors or .safetensors.zst file.
// Compression is detected by the zstd magic; a path ending in ".zst" whose
// content is not zstd is an error. Errors name the path.
func ReadFile(path string) (*File, error) {
	b, err := readFileLimit(path, MaxSize)
	if err != nil {
		return nil, err
	}
	return parseFile(path, b)
}

func parseFile(path string, b []byte) (*File, error) {
	if strings.HasSuffix(path, ".zst") && !bytes.HasPrefix(b, zstdMagic) {
		return nil, fmt.Errorf("%s: name ends in .zst but the content is not zstd: %w", path, ErrInvalid)
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

func readFileLimit(path string, limit int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := readAllLimit(fh, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// readAllLimit reads r to the end, failing with ErrTooLarge beyond limit
// bytes. The buffer grows with what r delivers.
func readAllLimit(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than the %d-byte limit: %w", limit, ErrTooLarge)
	}
	return b, nil
}

// WriteFile writes f to path, zstd-compressed (default level) when the path
// ends in ".zst". It writes a temporary file in the same directory and
// renames it into place, so readers never see a partial file.
func (f *File) WriteFile(path string) error {
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	b := buf.Bytes()
	if strings.HasSuffix(path, ".zst") {
		var err error
		if b, err = compress(b); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return writeFileAtomic(path, b)
}

// compress encodes b as one zstd frame at the default level.
func compress(b []byte) ([]byte, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, make([]byte, 0, len(b)/2)), nil
}

func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if err == nil {
		// CreateTemp makes 0600 files; weights are meant to be shared like any build output.
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
