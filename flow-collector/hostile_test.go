package flowcollector

import (
	"encoding/binary"
	"testing"
)

// TestHostileDatagramsAreCountedNotFatal feeds datagrams built to make a
// decoder loop, allocate without bound or index out of range.
func TestHostileDatagramsAreCountedNotFatal(t *testing.T) {
	zeroLen := newV9Builder(1)
	zeroLen.template(300, []field{{1, 0}, {2, 0}}) // records of zero bytes: an endless loop
	zeroLen.data(300, make([]byte, 64))

	huge := newV9Builder(1)
	huge.template(301, []field{{1, 8000}, {2, 8000}}) // a 16 KB record

	manyFields := make([]byte, 20)
	binary.BigEndian.PutUint16(manyFields, 9)
	manyFields = append(manyFields, 0, 0, 0, 12, 1, 44, 0xff, 0xff) // claims 65535 fields in 8 bytes

	v5 := make([]byte, 24)
	binary.BigEndian.PutUint16(v5, 5)
	binary.BigEndian.PutUint16(v5[2:], 65535) // 65535 records in 24 bytes

	ipfixLen := make([]byte, 16)
	binary.BigEndian.PutUint16(ipfixLen, 10)
	binary.BigEndian.PutUint16(ipfixLen[2:], 60000)

	zeroSet := newV9Builder(1)
	zeroSet.sets = [][]byte{{1, 0, 0, 0}} // a set of length 0

	sflowRecords := sflowDatagram(3, 40, 0x7fffffff) // expanded sample claiming 2^31 records

	for _, tc := range []struct {
		name string
		kind listenerKind
		data []byte
	}{
		{"zero-length fields", kindNetFlow, zeroLen.bytes()},
		{"oversized record", kindNetFlow, huge.bytes()},
		{"field count beyond the set", kindNetFlow, manyFields},
		{"v5 count beyond the datagram", kindNetFlow, v5},
		{"IPFIX length beyond the datagram", kindNetFlow, ipfixLen},
		{"zero-length set", kindNetFlow, zeroSet.bytes()},
		{"empty", kindNetFlow, nil},
		{"garbage", kindNetFlow, []byte("GET / HTTP/1.1\r\n\r\n")},
		{"sFlow expanded sample with 2^31 records", kindSFlow, sflowRecords},
		{"sFlow truncated", kindSFlow, sflowRecords[:30]},
		{"sFlow garbage", kindSFlow, []byte{0, 0, 0, 5, 0, 0, 0, 9, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, pub := newTestComponent(t, testConfig(t))
			decodeEach(c, pub, tc.kind, [][]byte{tc.data})
			if n := metricSum(t, c.r, "netstrata_flow_decode_errors_total", "", ""); n == 0 {
				t.Error("not counted as a decode error")
			}
			if len(published(pub)) != 0 {
				t.Errorf("published %d flows", len(published(pub)))
			}
		})
	}
}

// sflowDatagram builds an sFlow v5 datagram with one sample of the given
// format whose record count field (at countAt in the sample) is records.
func sflowDatagram(format uint32, countAt int, records uint32) []byte {
	b := []byte{0, 0, 0, 5, 0, 0, 0, 1, 192, 0, 2, 9}
	b = binary.BigEndian.AppendUint32(b, 0) // sub-agent
	b = binary.BigEndian.AppendUint32(b, 1) // sequence
	b = binary.BigEndian.AppendUint32(b, 1) // uptime
	b = binary.BigEndian.AppendUint32(b, 1) // samples
	sample := make([]byte, countAt+4+16)
	binary.BigEndian.PutUint32(sample[countAt:], records)
	b = binary.BigEndian.AppendUint32(b, format)
	b = binary.BigEndian.AppendUint32(b, uint32(len(sample)))
	return append(b, sample...)
}
