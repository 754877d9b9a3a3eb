package benchpipeline

import (
	"encoding/binary"
	"math/rand/v2"
	"time"
)

// ipfixFields is the template of the generated flows: IPv4 endpoints,
// ports, protocol, TCP flags, interfaces, counters and flow times, as a
// router exports them (IANA element id, length).
var ipfixFields = [][2]uint16{
	{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {6, 1}, {10, 4}, {14, 4},
	{1, 8}, {2, 8}, {152, 8}, {153, 8},
}

const (
	ipfixTemplateID   = 256
	ipfixRecordLen    = 54 // the sum of ipfixFields' lengths
	ipfixHeaderLen    = 16
	ipfixSetHeaderLen = 4
	// flowsPerDatagram keeps a datagram under 1,400 bytes, as exporters do.
	flowsPerDatagram = 25
)

// ipfixTemplate is the message announcing the template.
func ipfixTemplate(domain uint32, now time.Time) []byte {
	set := binary.BigEndian.AppendUint16(nil, ipfixTemplateID)
	set = binary.BigEndian.AppendUint16(set, uint16(len(ipfixFields)))
	for _, f := range ipfixFields {
		set = binary.BigEndian.AppendUint16(set, f[0])
		set = binary.BigEndian.AppendUint16(set, f[1])
	}
	return ipfixMessage(domain, 0, now, 2, set)
}

// ipfixMessage wraps one set in a message header.
func ipfixMessage(domain, sequence uint32, now time.Time, setID uint16, body []byte) []byte {
	total := ipfixHeaderLen + ipfixSetHeaderLen + len(body)
	m := binary.BigEndian.AppendUint16(make([]byte, 0, total), 10)
	m = binary.BigEndian.AppendUint16(m, uint16(total))
	m = binary.BigEndian.AppendUint32(m, uint32(now.Unix()))
	m = binary.BigEndian.AppendUint32(m, sequence)
	m = binary.BigEndian.AppendUint32(m, domain)
	m = binary.BigEndian.AppendUint16(m, setID)
	m = binary.BigEndian.AppendUint16(m, uint16(ipfixSetHeaderLen+len(body)))
	return append(m, body...)
}

// flowGenerator makes data messages of flows that repeat a fixed set of
// conversations (a client, a server port and the interfaces on their
// path), as the correlator benchmark's recurring traffic does.
type flowGenerator struct {
	rng           *rand.Rand
	conversations []conversation
	domain        uint32
	sequence      uint32
}

type conversation struct {
	client, server [4]byte
	port           uint16
	in, out        uint32
}

func newFlowGenerator(conversations int, domain uint32) *flowGenerator {
	rng := rand.New(rand.NewPCG(1, 2))
	services := []uint16{443, 80, 53, 5432, 6379, 9092, 8080, 22, 3306, 27017, 8443, 9000, 11211, 25, 123, 389, 636, 2049, 5672, 9200}
	g := &flowGenerator{rng: rng, domain: domain, conversations: make([]conversation, conversations)}
	for i := range g.conversations {
		g.conversations[i] = conversation{
			client: [4]byte{10, 1, byte(rng.IntN(20)), byte(rng.IntN(250))},
			server: [4]byte{10, 2, byte(rng.IntN(2)), byte(rng.IntN(100))},
			port:   services[rng.IntN(len(services))],
			in:     uint32(1 + rng.IntN(48)), out: uint32(1 + rng.IntN(48)),
		}
	}
	return g
}

// datagram returns the next data message of flowsPerDatagram flows that
// ended at now.
func (g *flowGenerator) datagram(now time.Time) []byte {
	body := make([]byte, 0, flowsPerDatagram*ipfixRecordLen)
	end := uint64(now.UnixMilli())
	for range flowsPerDatagram {
		c := g.conversations[g.rng.IntN(len(g.conversations))]
		src, dst, sport, dport, in, out := c.client, c.server, uint16(32768+g.rng.IntN(28000)), c.port, c.in, c.out
		if g.rng.IntN(2) == 0 { // the return direction
			src, dst, sport, dport, in, out = dst, src, dport, sport, out, in
		}
		body = append(body, src[:]...)
		body = append(body, dst[:]...)
		body = binary.BigEndian.AppendUint16(body, sport)
		body = binary.BigEndian.AppendUint16(body, dport)
		body = append(body, 6, 0x18)
		body = binary.BigEndian.AppendUint32(body, in)
		body = binary.BigEndian.AppendUint32(body, out)
		body = binary.BigEndian.AppendUint64(body, uint64(64+g.rng.IntN(1400)))
		body = binary.BigEndian.AppendUint64(body, uint64(1+g.rng.IntN(10)))
		body = binary.BigEndian.AppendUint64(body, end-uint64(g.rng.IntN(10_000)))
		body = binary.BigEndian.AppendUint64(body, end)
	}
	m := ipfixMessage(g.domain, g.sequence, now, ipfixTemplateID, body)
	g.sequence += flowsPerDatagram
	return m
}
