package chdb

import (
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strings"

	chcompress "github.com/ClickHouse/ch-go/compress"
	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Two kinds of compression travel over the ClickHouse HTTP interface:
//   - HTTP Content-Encoding (gzip, deflate, br, zstd, lz4) of the request
//     body, and of the response when the client sets
//     enable_http_compression=1 and sends Accept-Encoding;
//   - ClickHouse's own block framing (checksummed LZ4/ZSTD blocks), asked
//     for with decompress=1 (request body) and compress=1 (response), which
//     clickhouse-go uses for its lz4 and zstd compression options.

// decodeBody wraps the request body according to its Content-Encoding and
// the decompress parameter.
func decodeBody(body io.Reader, contentEncoding string, nativeCompressed bool) (io.Reader, func(), error) {
	closeFn := func() {}
	switch enc := strings.ToLower(strings.TrimSpace(contentEncoding)); enc {
	case "", "identity", "none":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, nil, &exception{Code: codeCannotDecompress, Message: fmt.Sprintf("cannot decompress gzip request body: %v", err)}
		}
		body, closeFn = zr, func() { _ = zr.Close() }
	case "deflate":
		zr, err := zlib.NewReader(body)
		if err != nil {
			return nil, nil, &exception{Code: codeCannotDecompress, Message: fmt.Sprintf("cannot decompress deflate request body: %v", err)}
		}
		body, closeFn = zr, func() { _ = zr.Close() }
	case "br":
		body = brotli.NewReader(body)
	case "zstd":
		zr, err := zstd.NewReader(body, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nil, &exception{Code: codeCannotDecompress, Message: fmt.Sprintf("cannot decompress zstd request body: %v", err)}
		}
		body, closeFn = zr, zr.Close
	case "lz4":
		body = lz4.NewReader(body)
	default:
		return nil, nil, &exception{Code: codeUnknownCompress, Message: fmt.Sprintf("Unknown Content-Encoding of HTTP request: %s", contentEncoding)}
	}
	if nativeCompressed {
		body = eofReader{chcompress.NewReader(body)}
	}
	return body, closeFn, nil
}

// eofReader unwraps the io.EOF that ch-go's block reader wraps at the clean
// end of the stream, so io.Copy sees the end rather than an error.
type eofReader struct{ r io.Reader }

func (e eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && errors.Is(err, io.EOF) {
		err = io.EOF
	}
	return n, err
}

// responseEncoding picks the HTTP Content-Encoding of a response: only when
// the client enabled it, as ClickHouse does.
func responseEncoding(acceptEncoding string, enabled bool) string {
	if !enabled {
		return ""
	}
	accept := strings.ToLower(acceptEncoding)
	for _, enc := range []string{"gzip", "deflate", "br", "zstd", "lz4"} {
		for _, part := range strings.Split(accept, ",") {
			if name, _, _ := strings.Cut(strings.TrimSpace(part), ";"); name == enc {
				return enc
			}
		}
	}
	return ""
}

// encodeWriter compresses w with an HTTP Content-Encoding.
func encodeWriter(w io.Writer, enc string) (io.WriteCloser, error) {
	switch enc {
	case "gzip":
		return gzip.NewWriterLevel(w, gzip.BestSpeed)
	case "deflate":
		return zlib.NewWriterLevel(w, zlib.BestSpeed)
	case "br":
		return brotli.NewWriterLevel(w, brotli.DefaultCompression), nil
	case "zstd":
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	case "lz4":
		return lz4.NewWriter(w), nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", enc)
}

// nativeBlockSize is how much output goes into one compressed block, as
// ClickHouse's default buffer size.
const nativeBlockSize = 1 << 20

// writeNativeCompressed writes data as ClickHouse compressed blocks.
func writeNativeCompressed(w io.Writer, data []byte, method string) error {
	m := chcompress.LZ4
	switch strings.ToUpper(method) {
	case "", "LZ4":
	case "LZ4HC":
		m = chcompress.LZ4HC
	case "ZSTD":
		m = chcompress.ZSTD
	case "NONE":
		m = chcompress.None
	default:
		return &exception{Code: codeUnknownCompress, Message: fmt.Sprintf("Unknown compression method: %s", method)}
	}
	cw := chcompress.NewWriter(chcompress.LevelZero, m)
	for len(data) > 0 {
		n := min(len(data), nativeBlockSize)
		if err := cw.Compress(data[:n]); err != nil {
			return fmt.Errorf("compress response: %w", err)
		}
		if _, err := w.Write(cw.Data); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}
