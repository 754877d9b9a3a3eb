package api

import (
	"net/url"
	"testing"
	"time"
)

// Explore and filter completion over the same 24 hours as
// BenchmarkTopNDstPort24h (bench_test.go), to compare with it: what the
// console's Explore page asks for a day.

func BenchmarkExploreDstPort24h(b *testing.B) {
	a := benchAPI(b)
	var r ExploreResponse
	benchGet(b, a, "/api/v1/flows/explore", url.Values{"by": {"dst_port"}, "from": {"-24h"}, "to": {bench.end.Format(time.RFC3339)}}, &r)
	b.Logf("source %s, step %ds, top %s", r.Source, r.StepSeconds, r.Rows[0].Key)
}

func BenchmarkExploreSrcPodByDstPortFiltered24h(b *testing.B) {
	a := benchAPI(b)
	var r ExploreResponse
	benchGet(b, a, "/api/v1/flows/explore", url.Values{"by": {"src_pod,dst_port"}, "filter": {`SrcNode = "worker-1" AND DstPort IN (8081, 443)`},
		"from": {"-24h"}, "to": {bench.end.Format(time.RFC3339)}, "metric": {"packets"}}, &r)
	b.Logf("source %s, step %ds, top %s", r.Source, r.StepSeconds, r.Rows[0].Key)
}

func BenchmarkFilterCompleteSrcPod24h(b *testing.B) {
	a := benchAPI(b)
	var r FilterCompletion
	benchGet(b, a, "/api/v1/filter/complete", url.Values{"filter": {`SrcPod = "pod-1`}, "from": {"-24h"}, "to": {bench.end.Format(time.RFC3339)}}, &r)
	b.Logf("%d options, first %+v", len(r.Options), r.Options[0])
}

func BenchmarkFilterCompleteDstIP24h(b *testing.B) {
	a := benchAPI(b)
	var r FilterCompletion
	benchGet(b, a, "/api/v1/filter/complete", url.Values{"filter": {`DstIP = `}, "from": {"-24h"}, "to": {bench.end.Format(time.RFC3339)}}, &r)
	b.Logf("%d options, first %+v", len(r.Options), r.Options[0])
}

func BenchmarkFilterCompleteDstPort24h(b *testing.B) {
	a := benchAPI(b)
	var r FilterCompletion
	benchGet(b, a, "/api/v1/filter/complete", url.Values{"filter": {`DstPort IN (80, `}, "from": {"-24h"}, "to": {bench.end.Format(time.RFC3339)}}, &r)
	b.Logf("%d options, first %+v", len(r.Options), r.Options[0])
}
