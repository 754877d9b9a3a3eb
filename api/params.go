package api

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/netstrata/netstrata/api/apiv1"
)

// paramError is a bad request parameter: the API answers 400 naming it.
type paramError struct {
	Param   string
	Message string
	Valid   []string // the accepted values, when they form a short list
}

func (e *paramError) Error() string {
	msg := fmt.Sprintf("parameter %q: %s", e.Param, e.Message)
	if len(e.Valid) > 0 {
		msg += " (valid: " + strings.Join(e.Valid, ", ") + ")"
	}
	return msg
}

func badParam(name, format string, args ...any) *paramError {
	return &paramError{Param: name, Message: fmt.Sprintf(format, args...)}
}

// maxParamLen bounds any single parameter value; nothing legitimate is longer.
const maxParamLen = 256

// params reads a request's query string against the parameters its route
// declares: an undeclared or repeated parameter is an error, so that a
// typo never silently widens a query.
type params struct {
	values url.Values
	now    time.Time
}

// parseQuery parses the query string, naming the parameter that cannot
// be read: url.Values would drop it (e.g. "proto=6;x", a semicolon) and
// the request would run without that filter.
func parseQuery(raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err == nil {
		return q, nil
	}
	for _, pair := range strings.Split(raw, "&") {
		if _, perr := url.ParseQuery(pair); perr != nil {
			name, _, _ := strings.Cut(pair, "=")
			if n, uerr := url.QueryUnescape(name); uerr == nil {
				name = n
			}
			return nil, badParam(name, "cannot be read (%v)", perr)
		}
	}
	return nil, badParam("query", "cannot be read (%v)", err)
}

func newParams(q url.Values, declared []paramSpec, now time.Time) (*params, error) {
	known := make(map[string]bool, len(declared))
	for _, d := range declared {
		known[d.Name] = true
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !known[name] {
			valid := make([]string, 0, len(declared))
			for _, d := range declared {
				valid = append(valid, d.Name)
			}
			return nil, &paramError{Param: clip(name), Message: "unknown parameter", Valid: valid}
		}
		if len(q[name]) > 1 {
			return nil, badParam(name, "given %d times; give it once", len(q[name]))
		}
		v := q[name][0]
		if len(v) > maxParamLen {
			return nil, badParam(name, "longer than %d characters", maxParamLen)
		}
		for _, r := range v {
			if r < 0x20 || r == 0x7f || r == '\uFFFD' {
				return nil, badParam(name, "contains a control character or invalid UTF-8")
			}
		}
	}
	return &params{values: q, now: now}, nil
}

// clip keeps hostile parameter names short in error messages and logs.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

func (p *params) has(name string) bool { return p.values.Get(name) != "" }

func (p *params) str(name string) string { return p.values.Get(name) }

// name reads an identifier-like value (node, pod, namespace, device,
// application, process): letters, digits and . _ - : / @ +, which covers
// Kubernetes and DNS names, SNMP target names and process names, and
// rejects quotes, spaces and SQL punctuation outright.
func (p *params) name(name string) (string, error) {
	v := p.values.Get(name)
	if v == "" {
		return "", nil
	}
	if len(v) > 253 {
		return "", badParam(name, "longer than 253 characters")
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-:/@+", r)) {
			return "", badParam(name, "%q is not allowed in a name (letters, digits and . _ - : / @ + only)", r)
		}
	}
	return v, nil
}

// ip reads an IPv4 or IPv6 address; IPv4 comes back as IPv4-mapped IPv6,
// the form the tables store.
func (p *params) ip(name string) (netip.Addr, bool, error) {
	v := p.values.Get(name)
	if v == "" {
		return netip.Addr{}, false, nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false, badParam(name, "%q is not an IP address", clip(v))
	}
	return netip.AddrFrom16(a.As16()), true, nil
}

// uint reads an unsigned integer no greater than max.
func (p *params) uint(name string, max uint64) (uint64, bool, error) {
	v := p.values.Get(name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > max {
		return 0, false, badParam(name, "%q is not an integer from 0 to %d", clip(v), max)
	}
	return n, true, nil
}

// enum reads one of valid, or def when absent.
func (p *params) enum(name, def string, valid []string) (string, error) {
	v := p.values.Get(name)
	if v == "" {
		return def, nil
	}
	for _, ok := range valid {
		if v == ok {
			return v, nil
		}
	}
	return "", &paramError{Param: name, Message: fmt.Sprintf("%q is not a valid value", clip(v)), Valid: valid}
}

// limit reads limit within the bounds of paramLimit(max), def when
// absent.
func (p *params) limit(def, max int) (int, error) {
	n, ok, err := p.integer(paramLimit(max))
	if err != nil || !ok {
		return min(def, max), err
	}
	return int(n), nil
}

// integer reads an integer within the spec's bounds.
func (p *params) integer(spec paramSpec) (int64, bool, error) {
	v := p.values.Get(spec.Name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < spec.Minimum || spec.Maximum > 0 && n > spec.Maximum {
		return 0, false, badParam(spec.Name, "%q is not an integer from %d to %d", clip(v), spec.Minimum, spec.Maximum)
	}
	return n, true, nil
}

// matching reads a value that matches the spec's pattern.
func (p *params) matching(spec paramSpec) (string, error) {
	v := p.values.Get(spec.Name)
	if v != "" && !regexp.MustCompile(spec.Pattern).MatchString(v) {
		return "", &paramError{Param: spec.Name, Message: fmt.Sprintf("%q does not match %s", clip(v), spec.Pattern), Valid: spec.Enum}
	}
	return v, nil
}

// timeRange reads from and to (RFC 3339 or relative to now, like -1h),
// defaulting to the last def, and caps the width at maxRange.
func (p *params) timeRange(def, maxRange time.Duration) (from, to time.Time, err error) {
	to = p.now
	if v := p.values.Get("to"); v != "" {
		if to, err = parseTime(v, p.now); err != nil {
			return from, to, badParam("to", "%v", err)
		}
	}
	from = to.Add(-def)
	if v := p.values.Get("from"); v != "" {
		if from, err = parseTime(v, p.now); err != nil {
			return from, to, badParam("from", "%v", err)
		}
	}
	if !from.Before(to) {
		return from, to, badParam("from", "must be before to (%s ≥ %s)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if to.Sub(from) > maxRange {
		return from, to, badParam("from", "range %s is wider than the maximum %s", to.Sub(from), maxRange)
	}
	return from.UTC(), to.UTC(), nil
}

// parseTime accepts RFC 3339 ("2026-01-02T15:04:05Z"), "now", or a
// duration relative to now: "-1h", "-90m", "-2d", "now-30m", "-1w".
func parseTime(s string, now time.Time) (time.Time, error) {
	if s == "now" {
		return now, nil
	}
	if rel, ok := strings.CutPrefix(s, "now"); ok {
		s = rel
	}
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		d, err := apiv1.ParseDuration(s[1:])
		if err != nil {
			return time.Time{}, err
		}
		if s[0] == '-' {
			d = -d
		}
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2006-01-02T15:04:05Z) nor relative (-1h, -30m, -2d)", clip(s))
	}
	if t.Year() < 2000 || t.Year() > 2200 {
		return time.Time{}, fmt.Errorf("%q is out of range", clip(s))
	}
	return t, nil
}
