package chdb

import (
	"fmt"
	"strings"
)

// What no client statement may do, whoever the user: the engine runs with
// the netstrata process's rights, so a table function, a table engine or
// a dictionary source that reads files, opens connections or runs
// programs would hand those rights to the caller. The front-end's own
// batch inserts use FROM INFILE on files it spooled; clients may not.

// reachingOut are the functions, engines and dictionary sources that
// reach outside the database (upper-cased; refused when followed by "(").
var reachingOut = map[string]bool{
	"FILE": true, "FILECLUSTER": true, "URL": true, "URLCLUSTER": true, "HTTP": true,
	"REMOTE": true, "REMOTESECURE": true, "CLUSTER": true, "CLUSTERALLREPLICAS": true,
	"S3": true, "S3CLUSTER": true, "S3QUEUE": true, "GCS": true, "OSS": true, "COSN": true,
	"AZUREBLOBSTORAGE": true, "AZUREBLOBSTORAGECLUSTER": true, "AZUREQUEUE": true,
	"HDFS": true, "HDFSCLUSTER": true, "HIVE": true,
	"EXECUTABLE": true, "EXECUTABLEPOOL": true,
	"MYSQL": true, "POSTGRESQL": true, "MATERIALIZEDPOSTGRESQL": true, "SQLITE": true, "ODBC": true,
	"JDBC": true, "MONGODB": true, "REDIS": true, "CLICKHOUSE": true, "YTSARAURUS": true,
	"DELTALAKE": true, "DELTALAKECLUSTER": true, "ICEBERG": true, "ICEBERGS3": true, "ICEBERGAZURE": true,
	"ICEBERGHDFS": true, "ICEBERGLOCAL": true, "ICEBERGCLUSTER": true, "HUDI": true, "HUDICLUSTER": true,
	"KAFKA": true, "NATS": true, "RABBITMQ": true, "ARROWFLIGHT": true, "ARROWFLIGHTSQL": true,
	"PROMETHEUSQUERY": true, "TIMESERIES": true, "EMBEDDEDROCKSDB": true, "DISK": true, "FS": true,
}

// refusedStatements are statements that act on the server, its files or
// its users rather than on netstrata's tables.
var refusedStatements = map[string]bool{
	"SYSTEM": true, "BACKUP": true, "RESTORE": true, "ATTACH": true, "DETACH": true,
	"GRANT": true, "REVOKE": true, "KILL": true,
}

// readStatements are the only statements the reader may run.
var readStatements = map[string]bool{
	"SELECT": true, "WITH": true, "SHOW": true, "DESCRIBE": true, "DESC": true, "EXISTS": true, "EXPLAIN": true,
}

// guard refuses a client statement that role may not run. text is the
// statement as the client sent it, without inline insert data.
func guard(role string, text []byte) error {
	first := firstKeyword(text)
	if refusedStatements[first] {
		return denied("%s statements are not allowed on the embedded ClickHouse", first)
	}
	if role == RoleReader && !readStatements[first] {
		return &exception{Code: codeReadonly, Message: fmt.Sprintf("%s is not allowed: user %s is read-only (READONLY)", first, ReaderUser)}
	}
	s := scanner{text: text}
	var prev token
	for {
		t, ok := s.next()
		if !ok {
			if s.pos >= len(text) {
				break
			}
			s.pos++ // past a ';': every statement of the text is checked
			continue
		}
		switch {
		case t.word == "INFILE":
			return denied("FROM INFILE is not allowed: send the data in the request")
		case t.word == "OUTFILE":
			return denied("INTO OUTFILE is not allowed: the result comes back in the response")
		case t.word == "" && text[t.start] == '(' && reachingOut[name(text, prev)]:
			return denied("%s(...) reaches outside the database and is not allowed", string(text[prev.start:prev.end]))
		}
		prev = t
	}
	return nil
}

func denied(format string, args ...any) error {
	return &exception{Code: codeAccessDenied, Message: fmt.Sprintf(format, args...) + " (ACCESS_DENIED)"}
}

// name is the upper-cased word of t, unquoted when it is a quoted
// identifier: `file`(...) calls file too.
func name(text []byte, t token) string {
	if t.word != "" || t.end-t.start < 2 {
		return t.word
	}
	if q := text[t.start]; (q == '`' || q == '"') && text[t.end-1] == q {
		return strings.ToUpper(string(text[t.start+1 : t.end-1]))
	}
	return ""
}
