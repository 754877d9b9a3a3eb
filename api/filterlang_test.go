package api

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/query"
)

// boundValues lists q's parameter values in order.
func boundValues(q *query.Builder) []any {
	var out []any
	for _, a := range q.Args {
		out = append(out, a.(driver.NamedValue).Value)
	}
	return out
}

func TestFilterCompilesToConditionsWithBoundValues(t *testing.T) {
	for _, c := range []struct {
		in, cond string
		values   []any
		raw      bool
	}{
		{`SrcPod = "apm-agent-2" AND DstPort IN (8081, 443) AND NOT Proto = "UDP"`,
			"(src_pod = {p0:String}) AND (dst_port IN ({p1:UInt16}, {p2:UInt16})) AND (NOT (proto = {p3:UInt8}))",
			[]any{"apm-agent-2", uint16(8081), uint16(443), uint8(17)}, false},
		{`srcpod = frontend-0 or dstip = 10.1.2.9`, "(src_pod = {p0:String}) OR (dst_ip = {p1:IPv6})", []any{"frontend-0", "::ffff:10.1.2.9"}, false},
		{`(App = http OR App = "http-alt") AND DstPort >= 40000`, "(((application = {p0:String}) OR (application = {p1:String}))) AND (dst_port >= {p2:UInt16})",
			[]any{"http", "http-alt", uint16(40000)}, true},
		{`SrcIP = 10.1.0.0/16`, "isIPAddressInRange(toString(src_ip), {p0:String})", []any{"::ffff:10.1.0.0/112"}, false},
		{`DstIP != 2001:db8::/32`, "NOT isIPAddressInRange(toString(dst_ip), {p0:String})", []any{"2001:db8::/32"}, false},
		{`SrcAS = AS15169 AND DstCountry NOT IN (us, "fr")`, "(src_as = {p0:UInt32}) AND (dst_country NOT IN ({p1:String}, {p2:String}))", []any{uint32(15169), "US", "FR"}, false},
		{`SrcPod LIKE "front%" AND SrcPort = 51000`, "(src_pod LIKE {p0:String}) AND (src_port = {p1:UInt16})", []any{"front%", uint16(51000)}, true},
		{``, "1", nil, false},
	} {
		q := &query.Builder{}
		f, err := parseFilter(c.in, q)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if f.cond != c.cond || fmt.Sprint(boundValues(q)) != fmt.Sprint(c.values) || f.needRaw != c.raw {
			t.Errorf("%q:\n got %s %v raw=%v\nwant %s %v raw=%v", c.in, f.cond, boundValues(q), f.needRaw, c.cond, c.values, c.raw)
		}
	}
}

// Hostile text either fails to parse or ends up whole in a bound value:
// the SQL holds only this package's constants and placeholders.
func TestFilterInjectionAttemptsNeverReachTheSQL(t *testing.T) {
	for _, in := range []string{
		`SrcPod = "x' OR 1=1 --"`,
		`SrcPod = "a\" OR 1=1) --"`,
		`SrcPod = "'; DROP TABLE flows; --"`,
		`App = "\\' UNION SELECT password FROM system.users --"`,
		`SrcPod = x; DROP TABLE flows`,
		`src_pod = 'x'`,
		`SrcPod = "a" OR 1=1`,
		`DstPort = 80 UNION SELECT 1`,
		`DstPort = 80)) OR ((1`,
		`SrcPod = concat('a')`,
		`SrcIP = toIPv6('::')`,
		"SrcPod = \"a\"\x00",
		`SrcPod = "é" AND DstPort = 99999`,
		strings.Repeat("(", 40) + `SrcPod = a` + strings.Repeat(")", 40),
		`DstPort IN (` + strings.Repeat("1, ", 70) + `1)`,
	} {
		q := &query.Builder{}
		f, err := parseFilter(in, q)
		if err != nil {
			var fe *filterError
			if !errors.As(err, &fe) || fe.Start < 0 || fe.End > len(in) || fe.Start > fe.End {
				t.Errorf("%q: error without a span: %v", in, err)
			}
			continue
		}
		for _, bad := range []string{"'", ";", "--", "DROP", "UNION", "concat", "toIPv6", "1=1"} {
			if strings.Contains(f.cond, bad) {
				t.Errorf("%q compiled to %q, which holds %q", in, f.cond, bad)
			}
		}
	}
}

func TestFilterErrorsPointAtTheirText(t *testing.T) {
	for _, c := range []struct{ in, at, msg string }{
		{`SrcPood = "a"`, "SrcPood", "unknown dimension"},
		{`SrcPod = "a" AND DstPort = http`, "http", "not a port"},
		{`SrcPod = "a" AND`, "", "expected a dimension"},
		{`SrcPod "a"`, `"a"`, "expected an operator"},
		{`DstPort IN (80, 443`, "", `expected ","`},
		{`SrcPod < "a"`, "<", "numbers only"},
		{`SrcPod = "abc`, `"abc`, "unterminated"},
		{`SrcPod = a b`, "b", "expected AND, OR"},
		{`DstCountry = USA`, "USA", "two-letter"},
		{`SrcPod = a & b`, "&", "unexpected character"},
		{`DstPort LIKE "8%"`, `"8%"`, "names only"},
	} {
		_, err := parseFilter(c.in, &query.Builder{})
		var fe *filterError
		if !errors.As(err, &fe) {
			t.Errorf("%q: %v, want an error", c.in, err)
			continue
		}
		if got := c.in[fe.Start:fe.End]; got != c.at || !strings.Contains(fe.Message, c.msg) {
			t.Errorf("%q: %q at %q, want %q at %q", c.in, fe.Message, got, c.msg, c.at)
		}
	}
}

func TestFilterCompletionKnowsWhatComesNext(t *testing.T) {
	for _, c := range []struct{ before, expect, partial, dim string }{
		{``, expectDimension, "", ""},
		{`Sr`, expectDimension, "Sr", ""},
		{`SrcPod `, expectOperator, "", "SrcPod"},
		{`SrcPod = `, expectValue, "", "SrcPod"},
		{`SrcPod = fro`, expectValue, "fro", "SrcPod"},
		{`SrcPod = "fro`, expectValue, "fro", "SrcPod"},
		{`SrcPod = "front end" `, expectConnector, "", "SrcPod"},
		{`SrcPod = a AND (DstPort IN (80, `, expectValue, "", "DstPort"},
		{`SrcPod = a AND (DstPort IN (80 `, expectList, "", "DstPort"},
		{`SrcPod = a AND NOT Pro`, expectDimension, "Pro", ""},
		{`SrcPod NOT `, expectOperator, "", "SrcPod"},
	} {
		ctx, err := completeContext(c.before)
		if err != nil {
			t.Errorf("%q: %v", c.before, err)
			continue
		}
		if ctx.expect != c.expect || ctx.partial.text != c.partial || ctx.dim.Name != c.dim {
			t.Errorf("%q: expect %s partial %q dim %q, want %s %q %q", c.before, ctx.expect, ctx.partial.text, ctx.dim.Name, c.expect, c.partial, c.dim)
		}
	}
}

func TestFilterValuesAreQuotedOnlyWhenTheyNeedIt(t *testing.T) {
	for in, want := range map[string]string{"frontend-0": "frontend-0", "a b": `"a b"`, `say "hi"`: `"say \"hi\""`, "and": `"and"`, "": `""`, "10.0.0.1": "10.0.0.1"} {
		if got := quoteFilterValue(in); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{`SrcPod = "a" AND DstPort IN (1, 2)`, `NOT (SrcIP = 10.0.0.0/8 OR App LIKE "h%")`, `"`, `(((`, "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := &query.Builder{}
		fc, err := parseFilter(s, q)
		var fe *filterError
		if err != nil && (!errors.As(err, &fe) || fe.Start > fe.End || fe.End > len(s)) {
			t.Fatalf("%q: %v", s, err)
		}
		if err == nil && strings.ContainsAny(fc.cond, "'\";") {
			t.Fatalf("%q compiled to %q", s, fc.cond)
		}
		_, _ = completeContext(s)
	})
}
