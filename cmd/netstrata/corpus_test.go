package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api"
	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
	"github.com/netstrata/netstrata/internal/store"
	"github.com/netstrata/netstrata/internal/testenv"
)

// corpusDir holds the exporter shapes every decoder must store right;
// its README.md defines the format.
const corpusDir = "../../flow-collector/testdata/corpus"

var corpusExpect = flag.Bool("corpus-expect", false,
	"write <shape>.json from tshark's reading of <shape>.pcap for each corpus entry that has none, then check them all")

// corpusEntry is one shape: its datagrams, the flows they must become,
// and the configuration it needs, if any.
type corpusEntry struct {
	name   string
	pcap   string
	expect []map[string]any // column -> value, as tshark reads it
	config string           // <name>.yaml, "" for the defaults
}

// TestCorpusStoresWhatEveryExporterSent replays every corpus entry, once,
// through the pipeline `netstrata standalone` runs (flow collector →
// embedded Kafka → correlator → ClickHouse → API, wired by runCommand as
// the binary wires them), and compares every column each expected flow
// lists with the stored rows; the API must count the same flows.
func TestCorpusStoresWhatEveryExporterSent(t *testing.T) {
	entries := loadCorpus(t)
	if *corpusExpect {
		writeCorpusExpectations(t, entries)
	}
	byConfig := map[string][]*corpusEntry{}
	for _, e := range entries {
		byConfig[e.config] = append(byConfig[e.config], e)
	}
	configs := make([]string, 0, len(byConfig))
	for c := range byConfig {
		configs = append(configs, c)
	}
	sort.Strings(configs)
	source := 10
	for _, c := range configs {
		p := startCorpusPipeline(t, c)
		for _, e := range byConfig[c] {
			source++
			t.Run(e.name, func(t *testing.T) { p.check(t, e, source) })
		}
		p.stop(t)
	}
}

// loadCorpus reads the entries: every <name>.pcap with its <name>.json
// and optional <name>.yaml.
func loadCorpus(t *testing.T) []*corpusEntry {
	t.Helper()
	pcaps, err := filepath.Glob(filepath.Join(corpusDir, "*.pcap"))
	if err != nil || len(pcaps) == 0 {
		t.Fatalf("no corpus entries in %s (%v)", corpusDir, err)
	}
	var entries []*corpusEntry
	for _, p := range pcaps {
		e := &corpusEntry{name: strings.TrimSuffix(filepath.Base(p), ".pcap"), pcap: p}
		base := strings.TrimSuffix(p, ".pcap")
		if b, err := os.ReadFile(base + ".yaml"); err == nil {
			e.config = string(b)
		}
		if b, err := os.ReadFile(base + ".json"); err == nil {
			d := json.NewDecoder(bytes.NewReader(b))
			d.UseNumber()
			if err := d.Decode(&e.expect); err != nil {
				t.Fatalf("%s.json: %v", base, err)
			}
			if len(e.expect) == 0 {
				t.Fatalf("%s.json lists no flow: an entry must produce at least one", base)
			}
		} else if !*corpusExpect {
			t.Fatalf("%s.pcap has no %s.json (write one from tshark's reading: -corpus-expect)", base, filepath.Base(base))
		}
		entries = append(entries, e)
	}
	return entries
}

// corpusPipeline is one running pipeline and the database it writes.
type corpusPipeline struct {
	conn           driver.Conn
	columns        map[string]string // flows column -> type
	api            string
	netflow, sflow string
	cancel         context.CancelFunc
	done           chan error
	logs           *testenv.LogBuffer
}

// corpusOnly is what standalone runs for the corpus: the flow path, with
// ClickHouse from schematest (one chDB engine per process).
const corpusOnly = "kafka,correlator,api,flow-collector"

func startCorpusPipeline(t *testing.T, config string) *corpusPipeline {
	t.Helper()
	st := schematest.Database(t)
	cfg := DefaultConfig()
	cfg.runs = componentsRun("standalone", corpusOnly)
	cfg.DataDir = t.TempDir()
	cfg.API.AuthDisabled = true // on loopback
	path := ""
	if config != "" {
		path = filepath.Join(t.TempDir(), "entry.yaml")
		if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := cfg.Load(path, nil); err != nil {
		t.Fatalf("entry configuration: %v", err)
	}
	p := &corpusPipeline{netflow: freePort(t, "udp"), sflow: freePort(t, "udp"), done: make(chan error, 1), logs: &testenv.LogBuffer{}}
	cfg.Embedded.ClickHouse.Enable = false
	cfg.Embedded.Kafka.Listen = freePort(t, "tcp")
	cfg.ClickHouse = st
	reader := schematest.Reader(t, st)
	cfg.clickhouseReader = &reader
	cfg.API.Listen = freePort(t, "tcp")
	cfg.FlowCollector.HTTP, cfg.Correlator.HTTP = freePort(t, "tcp"), freePort(t, "tcp")
	cfg.FlowCollector.NetFlowListen, cfg.FlowCollector.SFlowListen = []string{p.netflow}, []string{p.sflow}
	cfg.Correlator.BatchMaxWait, cfg.Correlator.BatchMinBytes = 100*time.Millisecond, 1
	cfg.Correlator.IPDB.Enable = false // AS numbers are the exporter's
	p.api = "http://" + cfg.API.Listen
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() { p.done <- runCommand(ctx, "standalone", corpusOnly, cfg, p.logs) }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pipeline log tail:\n%s", tailLines(p.logs.String(), 60))
		}
	})
	var err error
	if p.conn, err = store.Open(ctx, st); err != nil {
		t.Fatal(err)
	}
	// Ready when the correlator made the whole schema and the API answers.
	migrations := schema.Migrations(schema.DefaultOptions())
	latest := uint64(migrations[len(migrations)-1].Version)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var version uint64
		if err = p.conn.QueryRow(ctx, "SELECT toUInt64(max(version)) FROM schema_migrations WHERE schema = '"+schema.Name+"'").Scan(&version); err == nil && version == latest {
			p.columns, err = flowColumns(ctx, p.conn)
		} else if err == nil {
			err = fmt.Errorf("at version %d of %d", version, latest)
		}
		if err == nil {
			// Healthy, not merely listening: the API connects to the
			// database in the background and answers 503 until then.
			if resp, herr := http.Get(p.api + "/healthz"); herr == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
				err = fmt.Errorf("/healthz: %s", resp.Status)
			}
		}
		select {
		case derr := <-p.done:
			t.Fatalf("the pipeline ended before it was ready: %v", derr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pipeline was not ready in 2 minutes: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return p
}

func (p *corpusPipeline) stop(t *testing.T) {
	t.Helper()
	p.cancel()
	if err := <-p.done; err != nil {
		t.Errorf("pipeline: %v", err)
	}
	p.conn.Close()
}

// flowColumns maps the columns of flows to their types.
func flowColumns(ctx context.Context, conn driver.Conn) (map[string]string, error) {
	rows, err := conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'flows'")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		out[name] = typ
	}
	return out, rows.Err()
}

// check replays e from 127.0.0.<source> and compares what is stored.
func (p *corpusPipeline) check(t *testing.T, e *corpusEntry, source int) {
	datagrams, err := pcapDatagrams(e.pcap)
	if err != nil {
		t.Fatal(err)
	}
	cols := expectedColumns(t, e.expect, p.columns)
	since := time.Now().UTC()
	p.replay(t, datagrams, source)
	n := p.waitFlows(t, since, uint64(len(e.expect)))
	rows := p.storedFlows(t, context.Background(), since, cols)
	if n != uint64(len(e.expect)) {
		t.Errorf("%d flows stored, %d expected", n, len(e.expect))
	}
	want := make([][]string, len(e.expect))
	for i, flow := range e.expect {
		for _, c := range cols {
			v, ok := flow[c]
			if !ok {
				want[i] = append(want[i], "") // not listed: any value
				continue
			}
			s, err := canonical(v, c, p.columns[c])
			if err != nil {
				t.Fatalf("%s.json flow %d, %s: %v", e.name, i+1, c, err)
			}
			want[i] = append(want[i], s)
		}
	}
	for _, miss := range unmatched(want, rows) {
		t.Errorf("expected flow %d not stored: %s", miss+1, closest(want[miss], rows, cols))
	}
	p.checkAPI(t, since, n)
}

// replay sends the datagrams from 127.0.0.<source>: NetFlow and IPFIX to
// the collector's NetFlow port, sFlow (version 5 in the first 4 bytes)
// to its sFlow port, in capture order.
func (p *corpusPipeline) replay(t *testing.T, datagrams [][]byte, source int) {
	t.Helper()
	local := &net.UDPAddr{IP: net.IPv4(127, 0, 0, byte(source))}
	conns := map[string]*net.UDPConn{}
	for _, addr := range []string{p.netflow, p.sflow} {
		c, err := net.DialUDP("udp", local, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[addr] = c
	}
	for i, d := range datagrams {
		to := p.netflow
		if len(d) >= 4 && bytes.Equal(d[:4], []byte{0, 0, 0, 5}) {
			to = p.sflow
		}
		if _, err := conns[to].Write(d); err != nil {
			t.Fatalf("datagram %d: %v", i+1, err)
		}
		time.Sleep(time.Millisecond) // pace: the socket buffer holds all, a burst need not test it
	}
}

// sinceCond is the condition on the flows received since since.
func sinceCond(since time.Time) string {
	return "time_received >= toDateTime64('" + since.Format("2006-01-02 15:04:05.000") + "', 3, 'UTC')"
}

// waitFlows waits for want flows received since since, then a little
// more for any beyond, and returns how many there are.
func (p *corpusPipeline) waitFlows(t *testing.T, since time.Time, want uint64) uint64 {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	settled := false
	for {
		var n uint64
		if err := p.conn.QueryRow(context.Background(), "SELECT count() FROM flows WHERE "+sinceCond(since)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		switch {
		case n > want || n == want && settled || time.Now().After(deadline):
			return n
		case n == want:
			settled = true
			time.Sleep(500 * time.Millisecond) // a flow too many would show up now
		default:
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// expectedColumns are the columns the entry's flows list, checked
// against the table's.
func expectedColumns(t *testing.T, flows []map[string]any, table map[string]string) []string {
	t.Helper()
	seen := map[string]bool{}
	for i, f := range flows {
		for c := range f {
			if table[c] == "" {
				t.Fatalf("flow %d lists %q, which is not a column of flows (internal/schema/SCHEMA.md)", i+1, c)
			}
			seen[c] = true
		}
	}
	cols := make([]string, 0, len(seen))
	for c := range seen {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	return cols
}

// storedFlows reads cols of the flows received since since, each value
// canonical.
func (p *corpusPipeline) storedFlows(t *testing.T, ctx context.Context, since time.Time, cols []string) [][]string {
	t.Helper()
	exprs := make([]string, len(cols))
	for i, c := range cols {
		exprs[i] = "toString(" + c + ")"
	}
	rows, err := p.conn.Query(ctx, "SELECT "+strings.Join(exprs, ", ")+" FROM flows WHERE "+sinceCond(since))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		vals := make([]string, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		for i, c := range cols {
			if vals[i], err = canonical(vals[i], c, p.columns[c]); err != nil {
				t.Fatalf("stored %s %q: %v", c, vals[i], err)
			}
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// canonical is the text of a value of column col (of ClickHouse type
// typ), from the JSON of an entry (a number, a string as tshark prints
// it, an array) or from toString of the stored column, so that equal
// values compare equal: addresses without ::ffff: (0.0.0.0 is ::),
// MACs as aa:bb:cc:dd:ee:ff, integers in decimal (tshark's 0x.. too),
// times as 2006-01-02 15:04:05.000, arrays as [a,b].
func canonical(v any, col, typ string) (string, error) {
	typ = strings.TrimSuffix(strings.TrimPrefix(typ, "LowCardinality("), ")")
	switch x := v.(type) {
	case []any:
		elem := strings.TrimSuffix(strings.TrimPrefix(typ, "Array("), ")")
		parts := make([]string, len(x))
		for i, e := range x {
			s, err := canonical(e, col, elem)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "[" + strings.Join(parts, ",") + "]", nil
	case json.Number:
		v = x.String()
	case bool:
		v = strconv.FormatBool(x)
	case string:
	default:
		return "", fmt.Errorf("%v (%T) is not a number, string or array", v, v)
	}
	s := v.(string)
	switch {
	case strings.HasPrefix(typ, "Array("):
		var elems []any
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		if err := d.Decode(&elems); err != nil {
			return "", fmt.Errorf("%q is not an array", s)
		}
		return canonical(elems, col, typ)
	case typ == "IPv6":
		a, err := netip.ParseAddr(s)
		if err != nil {
			return "", err
		}
		if a = a.Unmap(); a.IsUnspecified() {
			return "::", nil
		}
		return a.String(), nil
	case strings.HasSuffix(col, "_mac"):
		// With separators only: net.ParseMAC also takes 12 bare hex
		// digits, which a stored decimal can be.
		if hw, err := net.ParseMAC(s); err == nil && strings.ContainsAny(s, ":-.") {
			return hw.String(), nil
		}
		n, err := strconv.ParseUint(s, 0, 48)
		if err != nil {
			return "", fmt.Errorf("%q is not a MAC address", s)
		}
		var b [8]byte
		for i := range 6 {
			b[i] = byte(n >> (40 - 8*i))
		}
		return net.HardwareAddr(b[:6]).String(), nil
	case strings.HasPrefix(typ, "UInt") || strings.HasPrefix(typ, "Int"):
		n, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			u, uerr := strconv.ParseUint(s, 0, 64)
			if uerr != nil {
				return "", fmt.Errorf("%q is not an integer", s)
			}
			return strconv.FormatUint(u, 10), nil
		}
		return strconv.FormatInt(n, 10), nil
	case strings.HasPrefix(typ, "DateTime64"):
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
			if tm, err := time.Parse(layout, s); err == nil {
				return tm.UTC().Format("2006-01-02 15:04:05.000"), nil
			}
		}
		return "", fmt.Errorf("%q is not an RFC 3339 time", s)
	}
	return s, nil
}

// unmatched pairs every expected flow with a distinct stored row equal on
// every column it lists ("" in want: any value), by augmenting paths,
// and returns the expected flows left without one.
func unmatched(want, rows [][]string) []int {
	rowOf := make([]int, len(rows)) // row -> expected flow + 1
	var try func(i int, seen []bool) bool
	try = func(i int, seen []bool) bool {
		for r := range rows {
			if seen[r] || !sameFlow(want[i], rows[r]) {
				continue
			}
			seen[r] = true
			if rowOf[r] == 0 || try(rowOf[r]-1, seen) {
				rowOf[r] = i + 1
				return true
			}
		}
		return false
	}
	var missing []int
	for i := range want {
		if !try(i, make([]bool, len(rows))) {
			missing = append(missing, i)
		}
	}
	return missing
}

func sameFlow(want, row []string) bool {
	for i, w := range want {
		if w != "" && w != row[i] {
			return false
		}
	}
	return true
}

// closest describes the stored row nearest to an expected flow: the
// columns that differ.
func closest(want []string, rows [][]string, cols []string) string {
	var best []string
	for r, row := range rows {
		var d []string
		for i, w := range want {
			if w != "" && w != row[i] {
				d = append(d, fmt.Sprintf("%s %s, want %s", cols[i], row[i], w))
			}
		}
		if r == 0 || len(d) < len(best) {
			best = d
		}
	}
	if len(rows) == 0 {
		return "no flow stored"
	}
	return "nearest stored flow has " + strings.Join(best, "; ")
}

// checkAPI asks the API for the flows received since since by exporter:
// it must count n.
func (p *corpusPipeline) checkAPI(t *testing.T, since time.Time, n uint64) {
	t.Helper()
	q := url.Values{"by": {"exporter"}, "from": {since.Add(-time.Millisecond).Format(time.RFC3339Nano)}, "to": {"now"}}
	resp, err := http.Get(p.api + "/api/v1/flows/topn?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r api.TopNResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != 200 {
		t.Fatalf("API: status %d, %v", resp.StatusCode, err)
	}
	if r.Total.Flows != n {
		t.Errorf("API counts %d flows, the table %d", r.Total.Flows, n)
	}
}
