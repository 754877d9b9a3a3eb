package api

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestFilterValidateSaysWhereInUTF16(t *testing.T) {
	a := consoleAPI(t, testConfig(), nil) // no database needed
	var v FilterValidation
	st, _, body := fetch(t, a+"/api/v1/filter/validate?"+url.Values{"filter": {`SrcPod = "é😀" AND DstPrt = 80`}}.Encode())
	if st != 200 {
		t.Fatalf("%d %s", st, body)
	}
	mustJSON(t, body, &v)
	// "SrcPod = \"é😀\" AND " is 19 UTF-16 units: é is one, 😀 two.
	if v.Valid || v.Error == nil || v.Error.From != 19 || v.Error.To != 25 || !strings.Contains(v.Error.Message, "DstPrt") {
		t.Errorf("%+v %+v", v, v.Error)
	}
	st, _, body = fetch(t, a+"/api/v1/filter/validate?"+url.Values{"filter": {`SrcPod = a AND DstPort IN (80, 443)`}}.Encode())
	mustJSON(t, body, &v)
	if st != 200 || !v.Valid || strings.Join(v.Dimensions, ",") != "SrcPod,DstPort" {
		t.Errorf("%d %+v", st, v)
	}
}

func TestFilterCompletionOffersNamesOperatorsAndValuesSeen(t *testing.T) {
	a := newTestAPI(t)
	s := newScenario()
	seedWorker1(t, a, s, true, false)
	complete := func(filter string) FilterCompletion {
		var c FilterCompletion
		if st := a.get(t, "/api/v1/filter/complete", s.rangeQuery(url.Values{"filter": {filter}}), &c); st != 200 {
			t.Fatalf("%q: %d", filter, st)
		}
		return c
	}
	labels := func(c FilterCompletion) string {
		var out []string
		for _, o := range c.Options {
			out = append(out, o.Label)
		}
		return strings.Join(out, " ")
	}
	if c := complete("DstPort = 80 AND Src"); c.From != 17 || c.To != 20 || !strings.HasPrefix(labels(c), "SrcPod SrcNamespace SrcNode SrcIP SrcPort") {
		t.Errorf("dimensions: %d-%d %q", c.From, c.To, labels(c))
	}
	if c := complete("SrcPod "); labels(c) != "= != IN NOT IN LIKE NOT LIKE" || c.Options[2].Apply != "IN (" {
		t.Errorf("operators: %q", labels(c))
	}
	if c := complete(`SrcPod = "fr`); labels(c) != "frontend-0 frontend-1 frontend-2 frontend-3" || c.From != 9 || c.Options[0].Apply != "frontend-0 " {
		t.Errorf("pod values: %d %q %+v", c.From, labels(c), c.Options)
	}
	if c := complete(`SrcPod = frontend-0 AND DstPort IN (`); !strings.Contains(labels(c), "8081") {
		t.Errorf("port values: %q", labels(c))
	}
	if c := complete(`DstIP = 10.1.2`); labels(c) != "10.1.2.9" {
		t.Errorf("address values: %q", labels(c))
	}
	if c := complete(`(SrcPod = a `); labels(c) != "AND OR )" {
		t.Errorf("connectors: %q", labels(c))
	}
}

func TestExploreRanksUnderAFilterWithSeries(t *testing.T) {
	a := newTestAPI(t)
	s := newScenario()
	seedWorker1(t, a, s, true, false)
	var r ExploreResponse
	q := s.rangeQuery(url.Values{"by": {"src_pod"}, "filter": {`DstPort = 8081 AND Proto = TCP`}, "points": {"60"}})
	if st := a.get(t, "/api/v1/flows/explore", q, &r); st != 200 {
		t.Fatalf("status %d", st)
	}
	if len(r.Rows) != 4 || r.StepSeconds != 60 || len(r.Times) != 60 || r.Other.Bytes != 0 {
		t.Fatalf("rows %d step %d times %d other %d", len(r.Rows), r.StepSeconds, len(r.Times), r.Other.Bytes)
	}
	for i, row := range r.Rows {
		if !strings.HasPrefix(row.Key, "shop/frontend-") || row.Share != 0.25 || len(row.Series) != 60 {
			t.Errorf("row %d: %+v", i, row.TopNRow)
		}
		// Minute 45 is in the spike (3×), minute 10 is not.
		at := func(m int) float64 { return row.Series[int(s.minute(m).Sub(r.Times[0])/time.Minute)] }
		if at(45) < 2.9*at(10) || at(10) == 0 {
			t.Errorf("row %s: minute 45 %v vs minute 10 %v", row.Key, at(45), at(10))
		}
	}
	q = s.rangeQuery(url.Values{"by": {"src_pod,dst_port"}, "filter": {`SrcPod IN ("orders-0", "web-0")`}, "metric": {"packets"}})
	if st := a.get(t, "/api/v1/flows/explore", q, &r); st != 200 || len(r.Rows) != 2 || r.Rows[0].Keys[0] != "shop/orders-0" || r.Rows[0].Keys[1] != "5432" {
		t.Errorf("two dimensions: %d %+v", st, r.Rows)
	}
	var e ErrorResponse
	q = s.rangeQuery(url.Values{"by": {"src_pod"}, "filter": {`SrcPod = "a" OR`}})
	if st := a.get(t, "/api/v1/flows/explore", q, &e); st != 400 || e.Error.Parameter != "filter" || !strings.Contains(e.Error.Message, "expected a dimension") {
		t.Errorf("bad filter: %d %+v", st, e)
	}
}
