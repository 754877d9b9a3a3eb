//go:build linux || darwin

package chdb

import (
	"fmt"

	"github.com/ebitengine/purego"
)

// dlopenLibrary loads libchdb with purego: no cgo, so the module builds
// with CGO_ENABLED=0 and with 1 alike.
func dlopenLibrary(path string) (*api, error) {
	// RTLD_LOCAL keeps ClickHouse's symbols out of the global namespace.
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return nil, fmt.Errorf("chdb: dlopen %s: %w", path, err)
	}
	a := &api{}
	for _, f := range []struct {
		fn   any
		name string
	}{
		{&a.connect, "chdb_connect"},
		{&a.closeConn, "chdb_close_conn"},
		{&a.queryN, "chdb_query_n"},
		{&a.queryWithParamsN, "chdb_query_with_params_n"},
		{&a.destroyResult, "chdb_destroy_query_result"},
		{&a.resultBuffer, "chdb_result_buffer"},
		{&a.resultLength, "chdb_result_length"},
		{&a.resultElapsed, "chdb_result_elapsed"},
		{&a.resultRows, "chdb_result_rows_read"},
		{&a.storageRows, "chdb_result_storage_rows_read"},
		{&a.storageBytes, "chdb_result_storage_bytes_read"},
		{&a.rowsWritten, "chdb_result_rows_written"},
		{&a.bytesWritten, "chdb_result_bytes_written"},
		{&a.resultError, "chdb_result_error"},
		{&a.setSignalHandlers, "chdb_set_signal_handlers_enabled"},
	} {
		sym, err := purego.Dlsym(h, f.name)
		if err != nil {
			return nil, fmt.Errorf("chdb: %s lacks %s (the connection API of chDB 26.x is needed): %w", path, f.name, err)
		}
		purego.RegisterFunc(f.fn, sym)
	}
	return a, nil
}
