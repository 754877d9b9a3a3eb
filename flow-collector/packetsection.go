package flowcollector

import (
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/netstrata/netstrata/internal/record"
)

// errKindPacketSection counts IPFIX packet sections too short for the
// headers they start (decode_errors_total); the record is still kept.
const errKindPacketSection = "packet_section"

// mapSection reads a packet section — dataLinkFrameSection (315), how
// inline monitoring on routers exports, or ipHeaderPacketSection (313) —
// with the packet parser sFlow samples go through, and fills what the
// record's own elements left unset: an element the exporter sent wins
// over what the section says. Bytes come from the IP header's length,
// ipTotalLength (224) or dataLinkFrameSize (312) less the link-layer
// header, never from the section's own length (a section is the first
// bytes of the packet); a record without a packet count describes one
// packet.
func (d *decoder) mapSection(f *record.Flow, st *recordState) {
	s := &d.sec
	s.Reset()
	l, err := d.parsePacket(s, st.sectionLink, st.section, 0)
	if err != nil {
		d.fail(d.cur, errKindPacketSection, err)
	}
	fillUnset(f, s)
	if len(f.MplsLabels) == 0 && len(s.MplsLabels) > 0 {
		f.MplsLabels = d.mpls[:copy(d.mpls[:], s.MplsLabels)]
	}
	if f.Bytes == 0 {
		switch {
		case l.ip != 0 && (st.frameSize == 0 || uint64(l.ip+l.l2) <= st.frameSize):
			f.Bytes = uint64(l.ip)
		case st.ipTotalLength != 0:
			f.Bytes = st.ipTotalLength
		case st.frameSize > uint64(l.l2) && l.l2 != 0:
			f.Bytes = st.frameSize - uint64(l.l2)
		case st.frameSize != 0: // a frame whose header the parser did not read
			f.Bytes, f.ByteBasis = st.frameSize, record.ByteBasis_BYTE_BASIS_FRAME
		}
	}
	if f.Packets == 0 {
		f.Packets = 1
	}
}

// fillUnset copies into dst the singular fields that src has and dst
// has not (repeated fields are the caller's): whatever the packet parser
// learns to read reaches the record without a list here to keep up.
func fillUnset(dst, src *record.Flow) {
	dm := dst.ProtoReflect()
	src.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Cardinality() != protoreflect.Repeated && !dm.Has(fd) {
			dm.Set(fd, v)
		}
		return true
	})
}
