package api

import (
	"net/url"
	"sort"
	"strconv"
	"testing"
)

// TestEveryQueryNamesOnlyColumnsThatExist calls every JSON endpoint on
// the schema internal/schema creates, once per value of each of its
// enumerated parameters, per flow dimension, per filter and per
// investigation subject: ClickHouse refuses a query naming a column,
// table or view the schema lacks, so any query the API can build that
// names one answers 5xx here.
func TestEveryQueryNamesOnlyColumnsThatExist(t *testing.T) {
	a := newTestAPI(t)
	s := newScenario()
	seedWorker1(t, a, s, true, false)
	calls := 0
	for _, rt := range a.c.routeTable() {
		if rt.handle == nil {
			continue
		}
		base := url.Values{}
		for _, p := range rt.Params {
			if p.Name == "from" || p.Name == "to" {
				base = s.rangeQuery(base)
			}
			if v, ok := sampleValue(p); ok && p.Required {
				base.Set(p.Name, v[0])
			}
		}
		if rt.Path == apiPrefix+"/investigate" {
			for _, subject := range []url.Values{{"node": {"worker-1"}}, {"ip": {"10.0.3.7"}}, {"device": {"sw1"}, "if_index": {"3"}}} {
				check(t, a, rt.Path, merge(base, subject), 400)
				calls++
			}
			continue
		}
		check(t, a, rt.Path, base, 400)
		calls++
		for _, p := range rt.Params {
			vals, ok := sampleValue(p)
			if !ok || p.Name == "from" || p.Name == "to" {
				continue
			}
			for _, v := range vals {
				check(t, a, rt.Path, merge(base, url.Values{p.Name: {v}}), 500)
				calls++
			}
		}
	}
	t.Logf("%d calls", calls)
}

// sampleValue gives values a parameter accepts: each of an enumeration,
// each flow dimension for `by`, else one of its type.
func sampleValue(p paramSpec) ([]string, bool) {
	switch {
	case len(p.Enum) > 0:
		return p.Enum, true
	case p.Name == "by":
		return dimensionNames(), true
	case p.Pattern != "":
		if v, ok := map[string]string{"forwarding_status": "dropped"}[p.Name]; ok {
			return []string{v}, true
		}
		return nil, false // cursor, filter: their own tests build them
	case p.Format == "ip":
		return []string{"10.0.3.7"}, true
	case p.Type == "integer":
		return []string{strconv.FormatInt(max(p.Minimum, 3), 10)}, true
	}
	v, ok := map[string]string{"node": "worker-1", "device": "sw1", "namespace": "shop", "pod": "frontend-0", "process": "curl",
		"app": "http", "step": "1m", "since": "1h", "rule": "spike", "as": "64500", "exporter": "10.0.0.1", "nat_ip": "10.0.0.9"}[p.Name]
	return []string{v}, ok
}

func merge(a, b url.Values) url.Values {
	out := url.Values{}
	for _, m := range []url.Values{a, b} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out[k] = m[k]
		}
	}
	return out
}

// check fails when the answer's status is limit or above: a bare call
// must succeed, a variant may be refused (a parameter it needs with
// another) but must not fail in the database.
func check(t *testing.T, a *testAPI, path string, q url.Values, limit int) {
	t.Helper()
	var e ErrorResponse
	if st := a.get(t, path, q, &e); st >= limit {
		t.Errorf("GET %s?%s: %d %s", path, q.Encode(), st, e.Error.Message)
	}
}
