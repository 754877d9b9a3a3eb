package snmppoller

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"
)

// simAgent is an in-process SNMP v1/v2c agent serving IF-MIB for one
// simulated device on its own loopback UDP port. Counters rise at exact
// configured rates from a known base, so a test knows the truth; the
// device can reboot, announce a discontinuity, wrap its 32-bit counters,
// refuse GETBULK, answer slowly or not at all.
type simAgent struct {
	conn *net.UDPConn
	cfg  simConfig
	mib  *simMIB

	mu            sync.Mutex
	epoch         time.Time // counters and sysUpTime start here
	discontinuity uint32
	requests      atomic.Int64
	bulkRequests  atomic.Int64
	wg            sync.WaitGroup
}

type simConfig struct {
	Name       string
	Community  string
	Interfaces int
	HC         bool // ifXTable 64-bit counters
	IfX        bool // ifXTable at all
	V1Only     bool // refuse GETBULK with genErr
	OctetRate  float64
	PacketRate float64
	Base32     uint32 // 32-bit counters start here (near 2^32 to test wraps)
	SpeedBps   uint32
	Uptime     time.Duration // at start; counters are then well away from 0
	Delay      time.Duration
	Drop       bool
	StrictGet  bool // a GET of an unknown object fails whole (noSuchName), even in v2c
}

func defaultSimConfig(name string) simConfig {
	return simConfig{Name: name, Community: "public", Interfaces: 48, HC: true, IfX: true,
		OctetRate: 125_000, PacketRate: 100, SpeedBps: 1_000_000_000, Uptime: 100 * time.Second}
}

// simEntry is one instance in the agent's MIB.
type simEntry struct {
	oid     []uint32
	name    string
	table   int // 0 system, 2 ifTable, 31 ifXTable
	column  int
	ifIndex int
}

// simMIB is the sorted instance list shared by agents of the same shape.
type simMIB struct{ entries []simEntry }

var simMIBs sync.Map // shape string -> *simMIB

func mibFor(c simConfig) *simMIB {
	key := fmt.Sprintf("%d/%v/%v", c.Interfaces, c.HC, c.IfX)
	if m, ok := simMIBs.Load(key); ok {
		return m.(*simMIB)
	}
	m := &simMIB{}
	add := func(table, col, idx int, oid ...uint32) {
		e := simEntry{oid: oid, table: table, column: col, ifIndex: idx}
		e.name = oidString(oid)
		m.entries = append(m.entries, e)
	}
	add(0, 3, 0, 1, 3, 6, 1, 2, 1, 1, 3, 0)
	add(0, 5, 0, 1, 3, 6, 1, 2, 1, 1, 5, 0)
	for _, col := range []int{1, 2, 3, 5, 7, 8, 10, 11, 13, 14, 16, 17, 19, 20} {
		for i := 1; i <= c.Interfaces; i++ {
			add(2, col, i, 1, 3, 6, 1, 2, 1, 2, 2, 1, uint32(col), uint32(i))
		}
	}
	if c.IfX {
		for col := 1; col <= 19; col++ {
			if !c.HC && col >= 6 && col <= 13 {
				continue
			}
			for i := 1; i <= c.Interfaces; i++ {
				add(31, col, i, 1, 3, 6, 1, 2, 1, 31, 1, 1, 1, uint32(col), uint32(i))
			}
		}
	}
	slices.SortFunc(m.entries, func(a, b simEntry) int { return slices.Compare(a.oid, b.oid) })
	actual, _ := simMIBs.LoadOrStore(key, m)
	return actual.(*simMIB)
}

func oidString(oid []uint32) string {
	var b strings.Builder
	for _, n := range oid {
		b.WriteByte('.')
		b.WriteString(strconv.FormatUint(uint64(n), 10))
	}
	return b.String()
}

func parseOID(s string) ([]uint32, bool) {
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return nil, false
	}
	parts := strings.Split(s, ".")
	out := make([]uint32, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, false
		}
		out[i] = uint32(n)
	}
	return out, true
}

// startSimAgent serves c on 127.0.0.1 at a free port.
func startSimAgent(c simConfig) (*simAgent, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	a := &simAgent{conn: conn, cfg: c, mib: mibFor(c), epoch: time.Now().Add(-c.Uptime)}
	a.wg.Add(1)
	go a.serve()
	return a, nil
}

func (a *simAgent) port() uint16 { return uint16(a.conn.LocalAddr().(*net.UDPAddr).Port) }

func (a *simAgent) close() {
	a.conn.Close()
	a.wg.Wait()
}

// reboot restarts sysUpTime and every counter from zero.
func (a *simAgent) reboot() {
	a.mu.Lock()
	a.epoch = time.Now()
	a.mu.Unlock()
}

// setDiscontinuity changes ifCounterDiscontinuityTime of every interface.
func (a *simAgent) setDiscontinuity(cs uint32) {
	a.mu.Lock()
	a.discontinuity = cs
	a.mu.Unlock()
}

// counter returns the value of an interface counter at elapsed seconds;
// interface i runs at i times the base rate so interfaces differ.
func (a *simAgent) counter(ifIndex int, octets bool, elapsed float64) uint64 {
	rate := a.cfg.PacketRate
	if octets {
		rate = a.cfg.OctetRate
	}
	return uint64(rate * float64(ifIndex) * elapsed)
}

func (a *simAgent) value(e *simEntry, now time.Time) gosnmp.SnmpPDU {
	a.mu.Lock()
	elapsed := now.Sub(a.epoch).Seconds()
	disc := a.discontinuity
	a.mu.Unlock()
	pdu := gosnmp.SnmpPDU{Name: e.name}
	c32 := func(v uint64) {
		pdu.Type, pdu.Value = gosnmp.Counter32, uint32(v+uint64(a.cfg.Base32))
	}
	c64 := func(v uint64) { pdu.Type, pdu.Value = gosnmp.Counter64, v }
	str := func(s string) { pdu.Type, pdu.Value = gosnmp.OctetString, []byte(s) }
	integer := func(v int) { pdu.Type, pdu.Value = gosnmp.Integer, v }
	i := e.ifIndex
	switch e.table {
	case 0:
		if e.column == 3 {
			pdu.Type, pdu.Value = gosnmp.TimeTicks, uint32(elapsed*100)
		} else {
			str(a.cfg.Name)
		}
	case 2:
		switch e.column {
		case 1, 3:
			integer(map[int]int{1: i, 3: 6}[e.column])
		case 2:
			str(fmt.Sprintf("sim port %d", i))
		case 5:
			pdu.Type, pdu.Value = gosnmp.Gauge32, a.cfg.SpeedBps
		case 7, 8:
			integer(1)
		case 10, 16:
			c32(a.counter(i, true, elapsed))
		case 11, 17:
			c32(a.counter(i, false, elapsed))
		default: // errors and discards
			c32(0)
		}
	case 31:
		switch e.column {
		case 1:
			str(fmt.Sprintf("port%d", i))
		case 6, 10:
			c64(a.counter(i, true, elapsed))
		case 7, 11:
			c64(a.counter(i, false, elapsed))
		case 8, 9, 12, 13:
			c64(0)
		case 2, 3, 4, 5:
			c32(0)
		case 15:
			pdu.Type, pdu.Value = gosnmp.Gauge32, a.cfg.SpeedBps/1_000_000
		case 18:
			str(fmt.Sprintf("uplink %d", i))
		case 19:
			pdu.Type, pdu.Value = gosnmp.TimeTicks, disc
		default:
			integer(1)
		}
	}
	return pdu
}

// next returns the first instance after oid, or nil at the end of the MIB.
func (a *simAgent) next(oid []uint32) *simEntry {
	es := a.mib.entries
	i, _ := slices.BinarySearchFunc(es, oid, func(e simEntry, t []uint32) int { return slices.Compare(e.oid, t) })
	for i < len(es) && slices.Compare(es[i].oid, oid) <= 0 {
		i++
	}
	if i == len(es) {
		return nil
	}
	return &es[i]
}

func (a *simAgent) exact(oid []uint32) *simEntry {
	es := a.mib.entries
	i, ok := slices.BinarySearchFunc(es, oid, func(e simEntry, t []uint32) int { return slices.Compare(e.oid, t) })
	if !ok {
		return nil
	}
	return &es[i]
}

func (a *simAgent) serve() {
	defer a.wg.Done()
	buf := make([]byte, 65536)
	dec := &gosnmp.GoSNMP{}
	for {
		n, from, err := a.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) {
				return
			}
			continue
		}
		a.requests.Add(1)
		if a.cfg.Drop {
			continue
		}
		req, err := dec.SnmpDecodePacket(buf[:n])
		if err != nil || req.Community != a.cfg.Community {
			continue // agents silently drop what they cannot authenticate
		}
		resp := a.answer(req, time.Now())
		out, err := resp.MarshalMsg()
		if err != nil {
			continue
		}
		if a.cfg.Delay > 0 {
			time.AfterFunc(a.cfg.Delay, func() { _, _ = a.conn.WriteToUDP(out, from) })
			continue
		}
		_, _ = a.conn.WriteToUDP(out, from)
	}
}

func (a *simAgent) answer(req *gosnmp.SnmpPacket, now time.Time) *gosnmp.SnmpPacket {
	resp := &gosnmp.SnmpPacket{Version: req.Version, Community: req.Community, PDUType: gosnmp.GetResponse, RequestID: req.RequestID}
	end := func(name string) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: name, Type: gosnmp.EndOfMibView}
	}
	nextPDU := func(name string) (gosnmp.SnmpPDU, bool) {
		oid, ok := parseOID(name)
		if !ok {
			return end(name), false
		}
		e := a.next(oid)
		if e == nil {
			return end(name), false
		}
		return a.value(e, now), true
	}
	switch req.PDUType {
	case gosnmp.GetRequest:
		for i, vb := range req.Variables {
			oid, _ := parseOID(vb.Name)
			if e := a.exact(oid); e != nil {
				resp.Variables = append(resp.Variables, a.value(e, now))
			} else if a.cfg.StrictGet {
				resp.Error, resp.ErrorIndex, resp.Variables = gosnmp.NoSuchName, uint8(i+1), req.Variables
				return resp
			} else {
				resp.Variables = append(resp.Variables, gosnmp.SnmpPDU{Name: vb.Name, Type: gosnmp.NoSuchObject})
			}
		}
	case gosnmp.GetNextRequest:
		for i, vb := range req.Variables {
			pdu, ok := nextPDU(vb.Name)
			if !ok && req.Version == gosnmp.Version1 {
				resp.Error, resp.ErrorIndex = gosnmp.NoSuchName, uint8(i+1)
				resp.Variables = req.Variables
				return resp
			}
			resp.Variables = append(resp.Variables, pdu)
		}
	case gosnmp.GetBulkRequest:
		a.bulkRequests.Add(1)
		if a.cfg.V1Only {
			resp.Error, resp.ErrorIndex = gosnmp.GenErr, 1
			resp.Variables = req.Variables
			return resp
		}
		nr := min(int(req.NonRepeaters), len(req.Variables))
		for _, vb := range req.Variables[:nr] {
			pdu, _ := nextPDU(vb.Name)
			resp.Variables = append(resp.Variables, pdu)
		}
		cur := make([]string, 0, len(req.Variables)-nr)
		for _, vb := range req.Variables[nr:] {
			cur = append(cur, vb.Name)
		}
		for r := 0; r < int(req.MaxRepetitions) && len(resp.Variables) < 2000; r++ {
			allEnd := true
			for j, name := range cur {
				pdu, ok := nextPDU(name)
				resp.Variables = append(resp.Variables, pdu)
				cur[j] = pdu.Name
				allEnd = allEnd && !ok
			}
			if allEnd {
				break
			}
		}
	}
	return resp
}
