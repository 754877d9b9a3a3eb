package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// httpError is an error with the status the API answers it with.
type httpError struct {
	Status  int
	Message string
	Cause   error // logged, never sent: it may name internal addresses
}

func (e *httpError) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

func (e *httpError) Unwrap() error { return e.Cause }

// errDatabaseDown is the 503 while no database connection exists.
func errDatabaseDown(cause error) *httpError {
	return &httpError{Status: http.StatusServiceUnavailable, Message: "database unavailable; the API retries in the background, see /healthz", Cause: cause}
}

// ClickHouse exception codes the API answers specially.
const (
	chUnknownTable        = 60
	chUnknownDatabase     = 81
	chTimeoutExceeded     = 159
	chTooManySimultaneous = 202
	chMemoryLimit         = 241
)

// classify maps a database error to the answer the client gets.
func classify(ctx context.Context, err error) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded {
		return &httpError{Status: http.StatusGatewayTimeout, Message: "query timed out; narrow the range or add filters", Cause: err}
	}
	if errors.Is(err, context.Canceled) {
		return &httpError{Status: 499, Message: "request cancelled", Cause: err}
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		switch ex.Code {
		case chTimeoutExceeded:
			return &httpError{Status: http.StatusGatewayTimeout, Message: "query timed out; narrow the range or add filters", Cause: err}
		case chUnknownTable, chUnknownDatabase:
			return &httpError{Status: http.StatusServiceUnavailable, Message: "schema not ready: the correlator has not created the tables yet", Cause: err}
		case chTooManySimultaneous, chMemoryLimit:
			return &httpError{Status: http.StatusServiceUnavailable, Message: "database overloaded; retry shortly", Cause: err}
		}
		return &httpError{Status: http.StatusInternalServerError, Message: fmt.Sprintf("query failed (ClickHouse code %d)", ex.Code), Cause: err}
	}
	var ne net.Error
	if errors.As(err, &ne) || strings.Contains(err.Error(), "connection refused") {
		return errDatabaseDown(err)
	}
	return &httpError{Status: http.StatusInternalServerError, Message: "internal error", Cause: err}
}

// writeJSON answers status with body as JSON.
func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}

// writeError answers a parameter or HTTP error as an ErrorResponse.
func writeError(w http.ResponseWriter, err error) {
	var pe *paramError
	if errors.As(err, &pe) {
		writeJSON(w, http.StatusBadRequest, ErrorResponse{Error: ErrorBody{Status: http.StatusBadRequest, Message: pe.Error(), Parameter: pe.Param, Valid: pe.Valid}})
		return
	}
	var he *httpError
	if !errors.As(err, &he) {
		he = &httpError{Status: http.StatusInternalServerError, Message: "internal error", Cause: err}
	}
	if he.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, he.Status, ErrorResponse{Error: ErrorBody{Status: he.Status, Message: he.Message}})
}
