package chdb

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ClickHouse error codes this package raises itself (src/Common/ErrorCodes.cpp).
const (
	codeUnsupportedMethod = 1
	codeBadArguments      = 36
	codeSyntaxError       = 62
	codeUnknownCompress   = 89 // UNKNOWN_COMPRESSION_METHOD
	codeCannotDecompress  = 271
	codeNetworkError      = 210
	codeUnknownException  = 1002
	codeReadonly          = 164 // READONLY
	codeAccessDenied      = 497 // ACCESS_DENIED
	codeAuthFailed        = 516 // AUTHENTICATION_FAILED
)

// httpStatus is the status ClickHouse answers an exception with.
func (e *exception) httpStatus() int {
	switch e.Code {
	case codeAuthFailed:
		return 401
	case codeAccessDenied, codeReadonly:
		return 403
	}
	return 500
}

// exception is a ClickHouse error as the engine reports it.
type exception struct {
	Code int
	// Message is the text after "Code: N. ", e.g. "DB::Exception: Unknown
	// table ... (UNKNOWN_TABLE)".
	Message string
}

func (e *exception) Error() string { return e.text() }

// text is the error as the ClickHouse HTTP interface writes it, which is
// what clickhouse-go parses into a *clickhouse.Exception.
func (e *exception) text() string {
	msg := e.Message
	if !strings.Contains(msg, "Exception") {
		msg = "DB::Exception: " + msg
	}
	return fmt.Sprintf("Code: %d. %s", e.Code, msg)
}

var codeRe = regexp.MustCompile(`^Code: (\d+)\. `)

// parseException turns the engine's error text ("Code: 60. DB::Exception:
// ...") into an exception.
func parseException(msg string) *exception {
	msg = strings.TrimSpace(msg)
	if m := codeRe.FindStringSubmatch(msg); m != nil {
		if code, err := strconv.Atoi(m[1]); err == nil && code > 0 {
			rest := msg[len(m[0]):]
			// chDB sometimes wraps an exception in one with the same code.
			rest = strings.TrimPrefix(rest, "DB::Exception: "+m[0])
			return &exception{Code: code, Message: rest}
		}
	}
	return &exception{Code: codeUnknownException, Message: msg}
}
