package api

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/client"
	"github.com/netstrata/netstrata/api/query"
)

var testNow = time.Date(2026, 3, 4, 14, 5, 0, 0, time.UTC)

func TestParseTimeAcceptsRFC3339AndRelative(t *testing.T) {
	for in, want := range map[string]time.Time{
		"now":                       testNow,
		"-1h":                       testNow.Add(-time.Hour),
		"now-30m":                   testNow.Add(-30 * time.Minute),
		"-2d":                       testNow.Add(-48 * time.Hour),
		"-1h30m":                    testNow.Add(-90 * time.Minute),
		"+5m":                       testNow.Add(5 * time.Minute),
		"2026-03-04T13:00:00Z":      time.Date(2026, 3, 4, 13, 0, 0, 0, time.UTC),
		"2026-03-04T15:00:00+02:00": time.Date(2026, 3, 4, 13, 0, 0, 0, time.UTC),
	} {
		got, err := parseTime(in, testNow)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-", "-1", "1h", "-1y", "yesterday", "-99999999h", "2026-03-04", "1700000000", "-1h;", "now()"} {
		if _, err := parseTime(in, testNow); err == nil {
			t.Errorf("parseTime(%q) accepted", in)
		}
	}
}

func TestTimeRangeIsCappedAndOrdered(t *testing.T) {
	p := func(q url.Values) *params {
		pp, err := newParams(q, []paramSpec{paramFrom, paramTo}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		return pp
	}
	from, to, err := p(url.Values{}).timeRange(time.Hour, 24*time.Hour)
	if err != nil || !to.Equal(testNow) || !from.Equal(testNow.Add(-time.Hour)) {
		t.Errorf("default: %v %v %v", from, to, err)
	}
	if _, _, err := p(url.Values{"from": {"-2d"}}).timeRange(time.Hour, 24*time.Hour); err == nil || !strings.Contains(err.Error(), "maximum") {
		t.Errorf("too wide: %v", err)
	}
	if _, _, err := p(url.Values{"from": {"-1h"}, "to": {"-2h"}}).timeRange(time.Hour, 24*time.Hour); err == nil {
		t.Error("from after to accepted")
	}
}

func TestParamsRefuseUnknownRepeatedAndControlCharacters(t *testing.T) {
	spec := []paramSpec{{Name: "node"}}
	for _, q := range []url.Values{{"nod": {"a"}}, {"node": {"a", "b"}}, {"node": {"a\nb"}}, {"node": {strings.Repeat("x", 300)}}} {
		if _, err := newParams(q, spec, testNow); err == nil {
			t.Errorf("%v accepted", q)
		}
	}
	p, err := newParams(url.Values{"node": {"worker-1.eu_west:a/b@c+d"}}, spec, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := p.name("node"); err != nil || v != "worker-1.eu_west:a/b@c+d" {
		t.Errorf("name: %q %v", v, err)
	}
}

func TestRenderReportOfAnEmptyInvestigation(t *testing.T) {
	var b strings.Builder
	inv := &Investigation{Subject: Subject{Label: "node x"}, Verdict: Verdict{Kind: apiv1.VerdictNoData, Summary: "no data"},
		Layers: []LayerStatus{{Layer: "snmp", Note: "none"}}}
	if err := client.RenderReport(&b, inv); err != nil || !strings.Contains(b.String(), "VERDICT  no data") || !strings.Contains(b.String(), "snmp ✗") {
		t.Errorf("%v\n%s", err, b.String())
	}
}

// FuzzParams feeds arbitrary query strings through every parameter
// reader: none may panic, and whatever a name reader accepts holds no
// quote, space or SQL punctuation.
func FuzzParams(f *testing.F) {
	for _, s := range []string{"from=-1h&to=now", "node=worker-1", "by=app&limit=10", "ip=10.0.0.1", "ip=::1%25eth0",
		"node=x'%3B DROP", "from=2026-01-01T00:00:00Z", "limit=99999999999999999999", "port=65536", "step=1h30m", "proto=tcp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		spec := []paramSpec{paramFrom, paramTo, {Name: "node"}, {Name: "ip"}, {Name: "limit"}, {Name: "port"}, {Name: "by"}, {Name: "step"}, {Name: "proto"}}
		p, err := newParams(q, spec, testNow)
		if err != nil {
			return
		}
		_, _, _ = p.timeRange(time.Hour, 31*24*time.Hour)
		if v, err := p.name("node"); err == nil && strings.ContainsAny(v, "'\"` ;()\\\n") {
			t.Errorf("name accepted %q", v)
		}
		_, _, _ = p.ip("ip")
		_, _ = p.limit(10, 1000)
		_, _, _ = p.uint("port", 65535)
		_, _ = p.enum("by", "", dimensionNames())
		qq := &query.Builder{}
		_, _ = flowFilters(p, qq)
		for _, c := range qq.Conds {
			if strings.ContainsAny(c, "'\"") && !strings.Contains(c, "'UTC'") {
				t.Errorf("condition holds a quote: %s", c)
			}
		}
	})
}

// FuzzParseTime: no input panics or yields a time outside 2000–2200
// without an error.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"now", "-1h", "now-30m", "-2d", "2026-03-04T13:00:00Z", "-9999999w", "+1s", "-1h1h1h1h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := parseTime(s, testNow)
		if err == nil && (tm.Year() < 1990 || tm.Year() > 2200) {
			t.Errorf("parseTime(%q) = %v", s, tm)
		}
	})
}
