package chdb

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// The Native format has two framings. A ClickHouse server speaking HTTP to
// a client that sent client_protocol_version >= 54454 prefixes each block
// with a BlockInfo and each column with a "custom serialization" flag;
// without it (and always for inserts) blocks carry neither. chDB's
// output is always the plain framing, since it has no client revision.
//
// clickhouse-go reads every block with the revision returned by its hello
// query, "SELECT displayName(), version(), revision(), timezone()", but
// reads the hello answer itself with its own protocol revision. So the
// server answers that one query itself, in the framed encoding, and reports
// revision 0: clickhouse-go then expects the plain framing chDB produces.
// Nothing else in clickhouse-go's HTTP transport depends on the revision.

const helloQuery = "SELECT displayName(), version(), revision(), timezone()"

// isHelloQuery reports whether stmt is clickhouse-go's hello query.
func isHelloQuery(stmt []byte) bool {
	s := strings.TrimSpace(string(stmt))
	s = strings.TrimSpace(strings.TrimSuffix(s, ";"))
	return s == helloQuery
}

// helloBlock encodes the answer to the hello query as one Native block in
// the framed encoding (protocol revision >= 54454).
func helloBlock(displayName, version string, revision uint32, timezone string) []byte {
	var b bytes.Buffer
	uvarint := func(v uint64) {
		var tmp [binary.MaxVarintLen64]byte
		b.Write(tmp[:binary.PutUvarint(tmp[:], v)])
	}
	str := func(s string) {
		uvarint(uint64(len(s)))
		b.WriteString(s)
	}
	// BlockInfo: field 1 is_overflows=false, field 2 bucket_num=-1, end.
	uvarint(1)
	b.WriteByte(0)
	uvarint(2)
	_ = binary.Write(&b, binary.LittleEndian, int32(-1))
	uvarint(0)

	uvarint(4) // columns
	uvarint(1) // rows
	column := func(name, typ string, data func()) {
		str(name)
		str(typ)
		b.WriteByte(0) // no custom serialization
		data()
	}
	column("displayName()", "String", func() { str(displayName) })
	column("version()", "String", func() { str(version) })
	column("revision()", "UInt32", func() { _ = binary.Write(&b, binary.LittleEndian, revision) })
	column("timezone()", "String", func() { str(timezone) })
	return b.Bytes()
}
