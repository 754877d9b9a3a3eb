package schema

import "strings"

// Enumerations of migration 10; their numbers are the protobuf's
// (record.InterfaceKind, record.TimeBasis, record.ByteBasis).
const (
	enumInterfaceKind = "Enum8('ifindex' = 0, 'internal' = 1, 'discarded' = 2, 'multiple' = 3)"
	enumTimeBasis     = "Enum8('exporter' = 0, 'skew_corrected' = 1, 'received' = 2)"
	enumByteBasis     = "Enum8('ip' = 0, 'frame' = 1)"
)

// flowBasis (version 10) says what each flow's numbers are measured
// against: whether in_if/out_if are ifIndexes at all (sFlow also encodes
// "the device itself", "discarded (reason)" and "multiple interfaces",
// which must never join an SNMP interface), which clock placed the flow
// (the exporter's, corrected for its measured skew, or the collector's
// receive time) and whether bytes count IP packets or whole frames.
// Existing rows keep the defaults: ifIndexes, exporter time, IP bytes
// (sFlow rows written before it counted frames).
var flowBasis = "ALTER TABLE flows " + strings.Join([]string{
	"ADD COLUMN IF NOT EXISTS time_basis " + enumTimeBasis + " DEFAULT 'exporter' AFTER time_flow_end",
	"ADD COLUMN IF NOT EXISTS exporter_clock_skew_ms Int64 DEFAULT 0 AFTER time_basis",
	"ADD COLUMN IF NOT EXISTS in_if_kind " + enumInterfaceKind + " DEFAULT 'ifindex' AFTER in_if_speed",
	"ADD COLUMN IF NOT EXISTS in_if_detail UInt32 DEFAULT 0 AFTER in_if_kind",
	"ADD COLUMN IF NOT EXISTS out_if_kind " + enumInterfaceKind + " DEFAULT 'ifindex' AFTER out_if_speed",
	"ADD COLUMN IF NOT EXISTS out_if_detail UInt32 DEFAULT 0 AFTER out_if_kind",
	"ADD COLUMN IF NOT EXISTS byte_basis " + enumByteBasis + " DEFAULT 'ip' AFTER packets",
}, ", ")
