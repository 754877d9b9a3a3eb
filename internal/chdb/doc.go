// Package chdb is netstrata's embedded ClickHouse: the chDB engine
// (ClickHouse 26.x built as libchdb.so, from the npm package
// @chdb/lib-linux-x64-gnu) loaded into the process and served over the
// ClickHouse HTTP interface on loopback, so that clickhouse-go/v2, the only
// database client in netstrata, talks to it exactly as to a real server
// (Protocol: clickhouse.HTTP). Production uses a real ClickHouse server; this
// is the default for laptops, CI and `netstrata standalone`.
//
//	srv, err := chdb.New(chdb.DefaultConfiguration(), logger)
//	err = srv.Start(ctx)          // fetches libchdb.so on first use
//	defer srv.Stop()
//	conn, err := clickhouse.Open(&clickhouse.Options{
//		Protocol: clickhouse.HTTP, Addr: []string{srv.Addr()}})
//
// # The library
//
// Configuration.Library, else $NETSTRATA_CHDB_LIB, else the copy in
// ${NETSTRATA_CACHE:-$HOME/.cache/netstrata}/chdb/26.5.3/, which
// EnsureLibrary (or scripts/fetch-chdb.sh) fills with `npm pack` of the
// pinned version after checking the tarball's sha512 against the pinned npm
// integrity. The library is 560 MB and never goes into the repository.
//
// # Loading: purego, not cgo, not chdb-go
//
// libchdb is opened with dlopen through github.com/ebitengine/purego and 15
// functions of its C "connection" API are bound by hand (chdb_connect,
// chdb_query_n, chdb_query_with_params_n, chdb_result_*, ...). No cgo: the
// module builds with CGO_ENABLED=0 and =1 alike, and the library is only
// needed at run time. github.com/chdb-io/chdb-go (v1.11.0) also uses purego,
// but it loads the library in an init function and panics when it is
// missing (any binary importing it would need libchdb.so to start), binds
// chdb_query rather than the length-taking chdb_query_n and has no
// parameter binding, and pulls a CLI's dependencies into go.mod; the
// binding it would replace is one short file.
//
// # One engine per process
//
// chDB runs one ClickHouse per process. All engine connections share one
// data dir; another data dir can only be opened after every connection is
// closed, so at most one Server (one DataDir) runs in a process at a time,
// and Start fails with an error saying so. Stop closes the last connection,
// which shuts the engine down; a new Server can then start on any data dir
// (restarting in-process works on Linux; chDB reports that many restart
// cycles corrupt the allocator on macOS). Another process holding the data
// dir is detected through ClickHouse's lock on <data_dir>/status.
//
// A Server holds a pool of engine connections (max(GOMAXPROCS, 4), at most
// 16). Each runs one statement at a time, so that many statements run
// concurrently; further requests wait for a free connection.
//
// # Signals and threads
//
// ClickHouse wants SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, ... for itself.
// The package switches chDB's handlers off and then restores the Go
// runtime's handlers, which chDB resets to SIG_DFL, after loading and after
// every connect and close (Linux); the query profilers, which would signal
// engine threads with SIGRTMIN, are disabled. The engine starts its own
// threads (a dozen when idle, more under load); a statement runs on them
// while the calling goroutine waits in a foreign call.
//
// # The HTTP interface
//
// What works, as a ClickHouse server does it: GET /ping and / ("Ok.\n");
// GET or POST / with the statement in the query parameter, in the body, or
// the query parameter followed by the body (for INSERT data); every output
// format (default_format, else X-ClickHouse-Format, else TabSeparated);
// database (or X-ClickHouse-Database); settings as URL parameters (applied
// with SET on the engine connection for that request only, including
// insert_deduplication_token, max_execution_time, async_insert, readonly);
// query parameters param_<name> for {name:Type} placeholders (bound by the
// engine, not interpolated); request bodies with Content-Encoding gzip,
// deflate, br, zstd or lz4, and with ClickHouse block compression
// (decompress=1); responses with block compression (compress=1,
// network_compression_method LZ4 or ZSTD) or, with
// enable_http_compression=1, the client's Accept-Encoding. So clickhouse-go
// works with every Compression method. Errors are status 500 with the
// engine's "Code: N. DB::Exception: ..." text and X-ClickHouse-Exception-Code,
// which clickhouse-go turns into a *clickhouse.Exception with that code.
// Responses carry X-ClickHouse-Query-Id, -Format, -Timezone,
// -Server-Display-Name and -Summary.
//
// Inserts: an INSERT ... FORMAT <fmt> (clickhouse-go's batches send
// "INSERT INTO t (cols) FORMAT Native" with a Native body) has its data
// streamed to a file in <data_dir>/netstrata-spool and is run as
// INSERT ... FROM INFILE, because chDB mangles binary data given inline
// after FORMAT. The body never has to fit in memory.
//
// Native output: chDB writes Native blocks without the per-block BlockInfo
// and per-column serialization flag that a server adds for a client that
// sent client_protocol_version. The server therefore answers clickhouse-go's
// connect-time query (SELECT displayName(), version(), revision(),
// timezone()) itself and reports revision 0, which makes clickhouse-go read
// the blocks chDB writes. ServerVersion() of a connection thus shows
// revision 0 with the real version (26.5.1.1 for the pinned 26.5.3 package).
//
// Access (access.go, guard.go): the engine runs with the rights of the
// process that loaded it, so the front-end is the only gate.
//   - Two users, generated at the data dir's first start into
//     credentials.json (mode 0600): netstrata (the writer: the correlator's
//     inserts and DDL) and netstrata_reader (the API's: SELECT, WITH, SHOW,
//     DESCRIBE, EXISTS and EXPLAIN only, each query bounded by
//     reader_max_memory_usage, reader_max_execution_time and
//     reader_max_result_rows whatever it asks for; it holds at most half
//     the engine connections, and its queries half the cores). They are sent as
//     clickhouse-go does (X-ClickHouse-User/-Key), as basic auth, or as the
//     user and password parameters; a request without them is 401.
//   - A request with an Origin header (a web page) or a Host that is not a
//     loopback name (DNS rebinding) is 403 before authentication.
//   - No user may reach outside the database: the table functions, engines
//     and dictionary sources that read files, open connections or run
//     programs (file, url, remote, s3, executable, mysql, ...), INTO
//     OUTFILE, FROM INFILE, SYSTEM, BACKUP, RESTORE, ATTACH, DETACH, GRANT,
//     REVOKE and KILL are refused with ACCESS_DENIED (403).
//   - The listener must be a loopback address (passwords travel in clear).
//
// Differences from a ClickHouse server:
//   - No HTTP sessions: a request with session_id is refused; a SET
//     statement affects nothing after its request (as without a session);
//     temporary tables live on whichever engine connection ran the statement.
//   - No external tables (multipart requests) and no progress headers
//     (send_progress_in_http_headers is accepted and ignored).
//   - A result is built in memory (in the engine) before it is sent, so the
//     response has a Content-Length and failures are always a clean 500, but
//     a huge SELECT costs its size in memory; wait_end_of_query is
//     therefore always in effect.
//   - A statement cannot be cancelled once in the engine: a client that
//     disconnects does not stop it (max_execution_time does).
//   - Every error is status 500, but 401 and 403 for the refusals above
//     (a server uses 404 for UNKNOWN_TABLE, 400 for syntax errors, ...);
//     the exception code is what matters.
//   - Multi-statements are refused with code 62, as by a server.
//
// # Resources
//
// Start takes about 0.1 s with the library in the page cache (mapping the
// 560 MB library dominates a cold start). The engine's resident memory is
// about 200 MB idle and grows with use (caches, merges); Stop does not give
// it back to the OS. ClickHouse's own limit applies: at most 90% of RAM
// (max_server_memory_usage_to_ram_ratio).
//
// Background merges run niced (Configuration.MergeNice, default 10,
// ClickHouse's os_threads_nice_value_merge_mutate): they cost about as much
// CPU as the INSERTs, and at normal priority they delay every batch of the
// correlator and the queries sharing the cores.
package chdb
