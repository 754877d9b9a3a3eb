package api

import (
	"net/url"
	"testing"
	"time"
)

// The session and two-dimension rankings over the same 24 hours as
// BenchmarkTopNDstPort24h (bench_test.go), to compare with it.

func BenchmarkTopNFiveTuple24h(b *testing.B) {
	a := benchAPI(b)
	var r TopNResponse
	benchGet(b, a, "/api/v1/flows/topn", url.Values{"by": {"five_tuple"}, "from": {"-24h"}, "to": {bench.end.Format(time.RFC3339)}, "limit": {"50"}}, &r)
	b.Logf("source %s, top %s, next page %v", r.Source, r.Rows[0].Key, r.NextCursor != "")
}

func BenchmarkTopNSrcPodByDstPort24h(b *testing.B) {
	a := benchAPI(b)
	var r TopNResponse
	benchGet(b, a, "/api/v1/flows/topn", url.Values{"by": {"src_pod,dst_port"}, "from": {"-24h"}, "to": {bench.end.Format(time.RFC3339)}, "limit": {"50"}}, &r)
	b.Logf("source %s, top %s", r.Source, r.Rows[0].Key)
}

func BenchmarkTopNFiveTupleSecondPage24h(b *testing.B) {
	a := benchAPI(b)
	var first, r TopNResponse
	q := url.Values{"by": {"five_tuple"}, "from": {"-24h"}, "to": {bench.end.Format(time.RFC3339)}, "limit": {"50"}}
	if st := a.get(b, "/api/v1/flows/topn", q, &first); st != 200 || first.NextCursor == "" {
		b.Fatalf("first page: %d, cursor %q", st, first.NextCursor)
	}
	q.Set("cursor", first.NextCursor)
	benchGet(b, a, "/api/v1/flows/topn", q, &r)
}

// BenchmarkTopNFiveTupleHalfHour24h ranks sessions from half past an
// hour a day ago to the end: the most raw minutes a range's start reads
// (30), whatever the time of day the benchmark runs at.
func BenchmarkTopNFiveTupleHalfHour24h(b *testing.B) {
	a := benchAPI(b)
	var r TopNResponse
	from := bench.end.Truncate(time.Hour).Add(-23*time.Hour - 30*time.Minute)
	benchGet(b, a, "/api/v1/flows/topn", url.Values{"by": {"five_tuple"}, "from": {from.Format(time.RFC3339)}, "to": {bench.end.Format(time.RFC3339)}, "limit": {"50"}}, &r)
	b.Logf("source %s, top %s", r.Source, r.Rows[0].Key)
}
