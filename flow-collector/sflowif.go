package flowcollector

import "github.com/netstrata/netstrata/internal/record"

// sFlow v5 interface encoding (sFlow v5 spec, "Input/output port
// information"): the compact flow sample keeps the format in the top two
// bits of a 32-bit word, the expanded one in a word of its own.
const (
	sflowIfFormatIndex     = 0
	sflowIfFormatDiscarded = 1
	sflowIfFormatMultiple  = 2
	// sflowIfInternal, as an ifIndex, is "no interface": the packet came
	// from (input) or went to (output) the device itself.
	sflowIfInternal = 0x3fffffff
)

// sflowIf is one side of a sample's path through the device.
type sflowIf struct {
	index  uint32 // an ifIndex only when kind is IFINDEX; 0 otherwise
	kind   record.InterfaceKind
	detail uint32 // discarded: the reason code; multiple: the count (0: unknown)
}

// compactSFlowIf decodes an interface of a (compact) flow sample.
func compactSFlowIf(v uint32) sflowIf { return decodeSFlowIf(v>>30, v&0x3fffffff) }

// decodeSFlowIf decodes a format and value. Only format 0 names an
// ifIndex; everything else is stored apart so that it never joins an
// SNMP interface (a reason code or a count read as an ifIndex would).
// An undefined format (3) is an unknown interface.
func decodeSFlowIf(format, value uint32) sflowIf {
	switch format {
	case sflowIfFormatIndex:
		if value == sflowIfInternal {
			return sflowIf{kind: record.InterfaceKind_INTERFACE_KIND_INTERNAL}
		}
		return sflowIf{index: value}
	case sflowIfFormatDiscarded:
		return sflowIf{kind: record.InterfaceKind_INTERFACE_KIND_DISCARDED, detail: value}
	case sflowIfFormatMultiple:
		return sflowIf{kind: record.InterfaceKind_INTERFACE_KIND_MULTIPLE, detail: value}
	}
	return sflowIf{}
}

// set stores the input and output interfaces in f.
func setSFlowIfs(f *record.Flow, in, out sflowIf) {
	f.InIf, f.InIfKind, f.InIfDetail = in.index, in.kind, in.detail
	f.OutIf, f.OutIfKind, f.OutIfDetail = out.index, out.kind, out.detail
}
