package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/netstrata/netstrata/api"
	"github.com/netstrata/netstrata/correlator"
	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/ipdb"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/schema/schematest"
	"github.com/netstrata/netstrata/internal/store"
	"github.com/netstrata/netstrata/internal/telemetry"
	"github.com/netstrata/netstrata/internal/testenv"
)

// TestFlowsAreRankedByTheASOfThePinnedDatabase runs the whole path of AS
// enrichment: flow records on Kafka, the correlator looking their
// addresses up in the shipped IP databases (the exporter's AS number kept
// where it sent one), ClickHouse, and the API's TopN by AS and country.
func TestFlowsAreRankedByTheASOfThePinnedDatabase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := ipdb.EnsureDatabases(ctx, ""); err != nil {
		testenv.Skip(t, "the pinned IP databases cannot be fetched: "+err.Error())
	}
	r := telemetry.NewReporter(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	k, err := bus.StartEmbedded(bus.EmbeddedConfiguration{Listen: "127.0.0.1:0", Partitions: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Stop(context.Background()) })
	kcfg := bus.DefaultConfiguration()
	kcfg.Brokers, kcfg.Partitions = []string{k.Addr()}, 1
	st := schematest.Database(t)

	ccfg := correlator.DefaultConfiguration()
	ccfg.BatchMaxWait, ccfg.BatchMinBytes = 100*time.Millisecond, 1
	c, err := correlator.New(r.Component("correlator"), ccfg, correlator.Dependencies{Kafka: kcfg, ClickHouse: st})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	waitIPDB(t, r)

	p, err := bus.NewProducer(kcfg, r, record.TopicFlows)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	now := uint64(time.Now().UnixNano())
	for i, f := range []struct {
		dst    string
		dstAS  uint32 // sent by the exporter
		bytes  uint64
		copies int
	}{{"8.8.8.8", 0, 3000, 3}, {"2001:4860:4860::8888", 0, 1000, 2}, {"1.1.1.1", 0, 2000, 2}, {"9.9.9.9", 64500, 500, 1}} {
		for j := range f.copies {
			flow := &record.Flow{Type: record.FlowType_FLOW_TYPE_IPFIX, TimeReceivedNs: now, ExporterIp: addr("192.0.2.1"),
				SamplingRate: 1, SrcIp: addr("10.0.0.1"), DstIp: addr(f.dst), SrcPort: uint32(40000 + 10*i + j), DstPort: 53,
				Proto: 17, Bytes: f.bytes, Packets: 1, DstAs: f.dstAS}
			if err := p.PublishMessage(record.TopicFlows, []byte("e"), flow); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	waitStored(t, ctx, st, 8) // the schema complete: the API may query any column

	a := startAPI(t, r, st)

	want := []struct {
		key   string
		bytes uint64
	}{{"AS15169 Google LLC", 11000}, {"AS13335 Cloudflare, Inc.", 4000}, {"AS64500", 500}}
	var top api.TopNResponse
	deadline := time.Now().Add(time.Minute)
	for {
		var ok bool
		top, ok = topN(t, a.Addr(), "by=dst_as&from=-1h")
		if ok && len(top.Rows) == len(want) && top.Total.Bytes == 15500 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(top.Rows) != len(want) {
		t.Fatalf("TopN by dst_as: %+v, want %v", top.Rows, want)
	}
	for i, w := range want {
		if top.Rows[i].Key != w.key || top.Rows[i].Bytes != w.bytes {
			t.Errorf("row %d: %s %d B, want %s %d B", i, top.Rows[i].Key, top.Rows[i].Bytes, w.key, w.bytes)
		}
	}
	top, _ = topN(t, a.Addr(), "by=dst_country&from=-1h&dst_as=15169")
	if len(top.Rows) != 1 || top.Rows[0].Key != "US" {
		t.Errorf("countries of AS15169: %+v, want US", top.Rows)
	}
}

// waitStored waits until the flows table holds n rows.
func waitStored(t *testing.T, ctx context.Context, st store.Configuration, n uint64) {
	t.Helper()
	conn, err := store.Open(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(time.Minute)
	for {
		var got uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM flows").Scan(&got); err == nil && got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the correlator did not store %d flows", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitIPDB waits until the correlator has loaded the IP databases.
func waitIPDB(t *testing.T, r *telemetry.Reporter) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		mfs, err := r.Gatherer.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "netstrata_correlator_ipdb_ranges" && mf.GetMetric()[0].GetGauge().GetValue() > 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the correlator did not load the IP databases")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func addr(s string) []byte { return record.IPBytes(netip.MustParseAddr(s)) }

// topN asks the API; ok is false while it is not connected yet (503).
func topN(t *testing.T, apiAddr, query string) (top api.TopNResponse, ok bool) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s/api/v1/flows/topn?%s", apiAddr, query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusServiceUnavailable {
		return top, false
	}
	if err := json.NewDecoder(resp.Body).Decode(&top); err != nil || resp.StatusCode != 200 {
		t.Fatalf("topn %s: %d %v", query, resp.StatusCode, err)
	}
	return top, true
}
