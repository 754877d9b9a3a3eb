package flowcollector

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"time"
)

// This file writes and reads classic pcap files: the synthetic traffic
// the exporters turn into flows, and the captured export datagrams kept
// in testdata/.

const (
	linkEthernet = 1
	linkRaw      = 101 // raw IP
)

type pcapWriter struct {
	w io.Writer
}

func newPcapWriter(w io.Writer, link uint32) (*pcapWriter, error) {
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], link)
	_, err := w.Write(h)
	return &pcapWriter{w: w}, err
}

func (p *pcapWriter) write(ts time.Time, frame []byte) error {
	h := make([]byte, 16)
	binary.LittleEndian.PutUint32(h[0:], uint32(ts.Unix()))
	binary.LittleEndian.PutUint32(h[4:], uint32(ts.Nanosecond()/1000))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(frame)))
	if _, err := p.w.Write(h); err != nil {
		return err
	}
	_, err := p.w.Write(frame)
	return err
}

// readPcap returns the frames of a pcap file and its link type.
func readPcap(path string) (frames [][]byte, link uint32, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(data) < 24 || binary.LittleEndian.Uint32(data) != 0xa1b2c3d4 {
		return nil, 0, fmt.Errorf("%s: not a little-endian microsecond pcap", path)
	}
	link = binary.LittleEndian.Uint32(data[20:])
	for off := 24; off+16 <= len(data); {
		n := int(binary.LittleEndian.Uint32(data[off+8:]))
		off += 16
		if off+n > len(data) {
			return nil, 0, fmt.Errorf("%s: truncated record", path)
		}
		frames = append(frames, data[off:off+n])
		off += n
	}
	return frames, link, nil
}

// udpPayloads extracts UDP payloads (and their source address) from the
// frames of a raw-IP or Ethernet capture.
func udpPayloads(frames [][]byte, link uint32) (payloads [][]byte, sources []netip.AddrPort) {
	for _, f := range frames {
		if link == linkEthernet {
			if len(f) < 14 {
				continue
			}
			f = f[14:]
		}
		if len(f) < 20 {
			continue
		}
		var src netip.Addr
		var l4 []byte
		switch f[0] >> 4 {
		case 4:
			ihl := int(f[0]&0xf) * 4
			if f[9] != protoUDP || len(f) < ihl+8 {
				continue
			}
			src = netip.AddrFrom4([4]byte(f[12:16]))
			l4 = f[ihl:]
		case 6:
			if len(f) < 48 || f[6] != protoUDP {
				continue
			}
			src = netip.AddrFrom16([16]byte(f[8:24]))
			l4 = f[40:]
		default:
			continue
		}
		payloads = append(payloads, l4[8:])
		sources = append(sources, netip.AddrPortFrom(src, binary.BigEndian.Uint16(l4[0:])))
	}
	return payloads, sources
}

// fiveTuple identifies a flow in ground truth and in decoded output.
type fiveTuple struct {
	src, dst         netip.Addr
	srcPort, dstPort uint16
	proto            uint8
}

func (t fiveTuple) String() string {
	return fmt.Sprintf("%d %s:%d>%s:%d", t.proto, t.src, t.srcPort, t.dst, t.dstPort)
}

type counts struct{ bytes, packets uint64 }

// synthTraffic writes an Ethernet pcap of synthetic TCP and UDP flows over
// IPv4 and (when v6) IPv6, starting at start, and returns the truth: IP
// bytes and packets per 5-tuple (each direction is its own flow).
func synthTraffic(w io.Writer, seed uint64, flows int, v6 bool, start time.Time) (map[fiveTuple]counts, error) {
	pw, err := newPcapWriter(w, linkEthernet)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	truth := map[fiveTuple]counts{}
	type pkt struct {
		ts    time.Time
		frame []byte
	}
	var pkts []pkt
	services := []uint16{80, 443, 53, 5432, 3306, 9092, 22}
	for i := 0; i < flows; i++ {
		var t fiveTuple
		if v6 && i%4 == 3 {
			t.src = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 14: byte(i >> 8), 15: byte(i)})
			t.dst = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 2, 14: byte(i >> 7), 15: 1})
		} else {
			t.src = netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
			t.dst = netip.AddrFrom4([4]byte{10, 2, byte(i >> 10), byte(1 + i%200)})
		}
		t.proto = protoTCP
		if i%3 == 1 {
			t.proto = protoUDP
		}
		t.srcPort = uint16(20000 + i%40000)
		t.dstPort = services[i%len(services)]
		n := 1 + rng.IntN(12)
		ts := start.Add(time.Duration(rng.IntN(5000)) * time.Millisecond)
		for k := 0; k < n; k++ {
			payload := rng.IntN(1200)
			frame := buildFrame(t, payload, k, n)
			c := truth[t]
			c.packets++
			c.bytes += uint64(len(frame) - 14)
			truth[t] = c
			pkts = append(pkts, pkt{ts, frame})
			ts = ts.Add(time.Duration(1+rng.IntN(200)) * time.Millisecond)
		}
	}
	// Interleave flows in time order, as a real capture would be.
	sortByTime(len(pkts), func(i int) time.Time { return pkts[i].ts }, func(i, j int) { pkts[i], pkts[j] = pkts[j], pkts[i] })
	for _, p := range pkts {
		if err := pw.write(p.ts, p.frame); err != nil {
			return nil, err
		}
	}
	return truth, nil
}

func sortByTime(n int, at func(int) time.Time, swap func(i, j int)) {
	// Simple heap sort keeps this file free of sort.Interface boilerplate.
	down := func(i, n int) {
		for {
			l := 2*i + 1
			if l >= n {
				return
			}
			j := l
			if r := l + 1; r < n && at(r).After(at(l)) {
				j = r
			}
			if !at(j).After(at(i)) {
				return
			}
			swap(i, j)
			i = j
		}
	}
	for i := n/2 - 1; i >= 0; i-- {
		down(i, n)
	}
	for i := n - 1; i > 0; i-- {
		swap(0, i)
		down(0, i)
	}
}

// buildFrame makes an Ethernet frame of t with payload bytes of data; the
// TCP flags open the flow on the first packet and close it on the last.
func buildFrame(t fiveTuple, payload, k, n int) []byte {
	l4len := 8
	if t.proto == protoTCP {
		l4len = 20
	}
	var ip []byte
	if t.src.Is4() {
		ip = make([]byte, 20+l4len+payload)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
		ip[8] = 64
		ip[9] = t.proto
		s, d := t.src.As4(), t.dst.As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
		var sum uint32
		for i := 0; i < 20; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(ip[i:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	} else {
		ip = make([]byte, 40+l4len+payload)
		ip[0] = 0x60
		binary.BigEndian.PutUint16(ip[4:], uint16(l4len+payload))
		ip[6] = t.proto
		ip[7] = 64
		s, d := t.src.As16(), t.dst.As16()
		copy(ip[8:], s[:])
		copy(ip[24:], d[:])
	}
	l4 := ip[len(ip)-l4len-payload:]
	binary.BigEndian.PutUint16(l4[0:], t.srcPort)
	binary.BigEndian.PutUint16(l4[2:], t.dstPort)
	if t.proto == protoTCP {
		binary.BigEndian.PutUint32(l4[4:], uint32(1000+k))
		l4[12] = 5 << 4
		flags := byte(0x10) // ACK
		if k == 0 {
			flags = 0x02 // SYN
		}
		if k == n-1 && n > 1 {
			flags = 0x11 // FIN|ACK
		}
		l4[13] = flags
		binary.BigEndian.PutUint16(l4[14:], 65535)
	} else {
		binary.BigEndian.PutUint16(l4[4:], uint16(8+payload))
	}
	frame := make([]byte, 14+len(ip))
	copy(frame[0:6], []byte{0x02, 0, 0, 0, 0, 2})
	copy(frame[6:12], []byte{0x02, 0, 0, 0, 0, 1})
	if t.src.Is4() {
		binary.BigEndian.PutUint16(frame[12:], 0x0800)
	} else {
		binary.BigEndian.PutUint16(frame[12:], 0x86dd)
	}
	copy(frame[14:], ip)
	return frame
}
