package api

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestTopNRanksSessionsAndPairsOfDimensionsWithOtherAndPages(t *testing.T) {
	a := newTestAPI(t)
	s := newScenario()
	seedWorker1(t, a, s, true, false)

	t.Run("five_tuple ranks sessions from the raw flows", func(t *testing.T) {
		var r TopNResponse
		if st := a.get(t, "/api/v1/flows/topn", s.rangeQuery(url.Values{"by": {"five_tuple"}, "limit": {"2"}}), &r); st != 200 {
			t.Fatalf("status %d", st)
		}
		// The session rollup serves whole hours: a range of one hour is one
		// when it starts on the hour.
		if r.Source != "flows" && r.Source != "flows_5tuple_1h, flows" || len(r.Rows) != 2 || r.Rows[0].Key != "tcp 10.1.1.20:45000 → 10.0.3.7:5432" ||
			!regexp.MustCompile(`^tcp 10\.1\.1\.1[0-3]:4000[0-3] → 10\.1\.2\.9:8081$`).MatchString(r.Rows[1].Key) {
			t.Errorf("source %s, rows %+v: want the database session, then a frontend's to :8081, from the raw table (or the session rollup)", r.Source, r.Rows)
		}
	})
	t.Run("two dimensions rank every pair", func(t *testing.T) {
		var r TopNResponse
		if st := a.get(t, "/api/v1/flows/topn", s.rangeQuery(url.Values{"by": {"src_pod,dst_port"}}), &r); st != 200 {
			t.Fatalf("status %d", st)
		}
		if len(r.Dimensions) != 2 || len(r.Rows) != 6 {
			t.Fatalf("dimensions %v, rows %+v: want 6 pairs", r.Dimensions, r.Rows)
		}
		if k := r.Rows[0].Keys; len(k) != 2 || k[0] != "shop/orders-0" || k[1] != "5432" || r.Rows[0].Key != "shop/orders-0 | 5432" {
			t.Errorf("first row %+v, want shop/orders-0 × 5432", r.Rows[0])
		}
		for _, row := range r.Rows[1:5] {
			if !strings.HasPrefix(row.Keys[0], "shop/frontend-") || row.Keys[1] != "8081" {
				t.Errorf("row %+v, want a frontend × 8081", row)
			}
		}
	})
	t.Run("rows and other add up to the total", func(t *testing.T) {
		var r TopNResponse
		if st := a.get(t, "/api/v1/flows/topn", s.rangeQuery(url.Values{"by": {"src_pod"}, "limit": {"2"}}), &r); st != 200 {
			t.Fatalf("status %d", st)
		}
		var bytes uint64
		share := r.Other.Share
		for _, row := range r.Rows {
			bytes += row.Bytes
			share += row.Share
		}
		if bytes+r.Other.Bytes != r.Total.Bytes || math.Abs(share-1) > 0.001 || r.Other.Bytes == 0 {
			t.Errorf("rows %d B + other %d B vs total %d B; shares add up to %.4f", bytes, r.Other.Bytes, r.Total.Bytes, share)
		}
	})
	t.Run("pages follow each other to the end", func(t *testing.T) {
		var all TopNResponse
		if st := a.get(t, "/api/v1/flows/topn", s.rangeQuery(url.Values{"by": {"five_tuple"}, "limit": {"1000"}}), &all); st != 200 {
			t.Fatalf("status %d", st)
		}
		var paged []string
		q := s.rangeQuery(url.Values{"by": {"five_tuple"}, "limit": {"2"}})
		for page := 0; page < 10; page++ {
			var r TopNResponse
			if st := a.get(t, "/api/v1/flows/topn", q, &r); st != 200 {
				t.Fatalf("page %d: status %d", page, st)
			}
			for _, row := range r.Rows {
				paged = append(paged, row.Key)
			}
			if r.Total.Bytes != all.Total.Bytes || r.Total.Packets != all.Total.Packets || r.Total.Flows != all.Total.Flows {
				t.Errorf("page %d: total %+v, want the whole ranking's %+v", page, r.Total, all.Total)
			}
			if r.NextCursor == "" {
				break
			}
			q.Set("cursor", r.NextCursor)
		}
		if got, want := strings.Join(paged, "\n"), strings.Join(keysOf(all.Rows), "\n"); got != want || len(all.Rows) != 6 {
			t.Errorf("pages:\n%s\nwant the ranking:\n%s", got, want)
		}
		// A cursor continues its own ranking only.
		q.Set("by", "src_pod")
		var e ErrorResponse
		if st := a.get(t, "/api/v1/flows/topn", q, &e); st != 400 || e.Error.Parameter != "cursor" {
			t.Errorf("cursor of another ranking: %d %+v", st, e)
		}
	})
}

func keysOf(rows []TopNRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Key
	}
	return out
}

// TestParameterBoundsAreTheDocumentedOnes checks every integer and
// patterned parameter of every route against its OpenAPI schema: the
// documented minimum and maximum are accepted and one beyond is a 400
// naming the parameter; a value the pattern refuses is a 400.
func TestParameterBoundsAreTheDocumentedOnes(t *testing.T) {
	c := offlineAPI(t, testConfig())
	base := "http://" + c.Addr()
	resp, err := http.Get(base + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name   string         `json:"name"`
				Schema map[string]any `json:"schema"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	// What each route needs before it looks at the parameter checked.
	required := map[string]url.Values{
		"/api/v1/flows/topn":        {"by": {"app"}},
		"/api/v1/flows/explore":     {"by": {"app"}},
		"/api/v1/investigate":       {"device": {"sw1"}, "if_index": {"1"}},
		"/api/v1/interfaces/series": {"device": {"sw1"}, "if_index": {"1"}},
	}
	refused := func(path, name, value string) bool {
		var e ErrorResponse
		q := url.Values{}
		for k, v := range required[path] {
			q[k] = v
		}
		q.Set(name, value)
		r, err := http.Get(base + path + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		_ = json.NewDecoder(r.Body).Decode(&e)
		return r.StatusCode == 400 && e.Error.Parameter == name
	}
	checked := 0
	for path, item := range doc.Paths {
		for _, prm := range item["get"].Parameters {
			switch {
			case prm.Schema["type"] == "integer":
				lo := int64(prm.Schema["minimum"].(float64))
				for _, v := range []int64{lo, lo - 1} {
					if v >= 0 && refused(path, prm.Name, strconv.FormatInt(v, 10)) != (v < lo) {
						t.Errorf("%s %s=%d: refused %v, but the documented minimum is %d", path, prm.Name, v, v >= lo, lo)
					}
				}
				if hi, ok := prm.Schema["maximum"].(float64); ok {
					for _, v := range []int64{int64(hi), int64(hi) + 1} {
						if refused(path, prm.Name, strconv.FormatInt(v, 10)) != (v > int64(hi)) {
							t.Errorf("%s %s=%d: refused %v, but the documented maximum is %d", path, prm.Name, v, v <= int64(hi), int64(hi))
						}
					}
				}
				checked++
			case prm.Schema["pattern"] != nil && prm.Name == "by":
				for v, bad := range map[string]bool{"app": false, "src_pod,dst_port": false, "five_tuple": false, "app,nope": true, "app,proto,src_ip": true, "": false} {
					if v != "" && refused(path, prm.Name, v) != bad {
						t.Errorf("%s by=%s: refused %v, want %v (pattern %v)", path, v, !bad, bad, prm.Schema["pattern"])
					}
				}
				checked++
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d parameters checked", checked)
	}
}
