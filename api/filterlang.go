package api

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
)

// The filter language of the console's Explore page, e.g.
//
//	SrcPod = "apm-agent-2" AND DstPort IN (8081, 443) AND NOT Proto = "UDP"
//
// is parsed here into conditions whose every value is a bound parameter:
// the SQL text is built from this file's constants only (dimension
// columns, operators), never from the filter's text.

// valueKind is how a dimension's values are read and bound.
type valueKind int

const (
	kindString valueKind = iota
	kindIP
	kindPort
	kindUint32
	kindProto
	kindCountry
)

// filterDim is one dimension of the language.
type filterDim struct {
	Name string // as written, e.g. SrcPod (matched in any case)
	col  string // its column in flows and the flow rollups
	kind valueKind
	Doc  string
}

// filterDims are the dimensions, in the order completion offers them.
var filterDims = []filterDim{
	{"SrcPod", schema.FlowSrcPod, kindString, "source pod name"},
	{"DstPod", schema.FlowDstPod, kindString, "destination pod name"},
	{"SrcNamespace", schema.FlowSrcNamespace, kindString, "source pod namespace"},
	{"DstNamespace", schema.FlowDstNamespace, kindString, "destination pod namespace"},
	{"SrcNode", schema.FlowSrcNode, kindString, "node of the source pod"},
	{"DstNode", schema.FlowDstNode, kindString, "node of the destination pod"},
	{"SrcIP", schema.FlowSrcIP, kindIP, "source address, or a prefix with = and !="},
	{"DstIP", schema.FlowDstIP, kindIP, "destination address, or a prefix with = and !="},
	{"SrcPort", schema.FlowSrcPort, kindPort, "source port"},
	{"DstPort", schema.FlowDstPort, kindPort, "destination port"},
	{"Proto", schema.FlowProto, kindProto, "IP protocol: a name (TCP, UDP, ICMP…) or number"},
	{"App", schema.FlowApplication, kindString, "application, named from protocol and port"},
	{"ExporterName", schema.FlowExporterName, kindString, "flow exporter's name"},
	{"ExporterIP", schema.FlowExporterIP, kindIP, "flow exporter's address"},
	{"InIf", schema.FlowInIf, kindUint32, "input interface index on the exporter"},
	{"OutIf", schema.FlowOutIf, kindUint32, "output interface index on the exporter"},
	{"SrcAS", schema.FlowSrcAS, kindUint32, "source AS number (15169 or AS15169)"},
	{"DstAS", schema.FlowDstAS, kindUint32, "destination AS number"},
	{"SrcCountry", schema.FlowSrcCountry, kindCountry, "source country, ISO 3166-1 alpha-2"},
	{"DstCountry", schema.FlowDstCountry, kindCountry, "destination country, ISO 3166-1 alpha-2"},
}

func lookupDim(name string) (filterDim, bool) {
	for _, d := range filterDims {
		if strings.EqualFold(d.Name, name) {
			return d, true
		}
	}
	return filterDim{}, false
}

// Budgets: what a filter may hold.
const (
	maxFilterTokens = 200
	maxFilterDepth  = 16
	maxInValues     = 64
)

// filterError is a filter that cannot be read, with the byte span of the
// text at fault.
type filterError struct {
	Message    string
	Start, End int
}

func (e *filterError) Error() string {
	return fmt.Sprintf("filter: %s (at %d)", e.Message, e.Start)
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokWord
	tokString
	tokOp
)

type token struct {
	kind         tokKind
	text         string // a word or operator as written; a string's value unquoted
	start, end   int
	unterminated bool // a string still being typed (partial lexing only)
}

func (t token) keyword(k string) bool { return t.kind == tokWord && strings.EqualFold(t.text, k) }

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.:/-%", c) >= 0
}

// lex splits a filter into tokens. partial accepts an unterminated string
// at the end (completion reads the text up to the cursor).
func lex(s string, partial bool) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				if !partial {
					return nil, &filterError{"unterminated string", i, len(s)}
				}
				toks = append(toks, token{tokString, b.String(), i, len(s), true})
				i = len(s)
				continue
			}
			toks = append(toks, token{tokString, b.String(), i, j + 1, false})
			i = j + 1
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, token{tokWord, s[i:j], i, j, false})
			i = j
		case strings.HasPrefix(s[i:], "!=") || strings.HasPrefix(s[i:], "<=") || strings.HasPrefix(s[i:], ">="):
			toks = append(toks, token{tokOp, s[i : i+2], i, i + 2, false})
			i += 2
		case strings.IndexByte("=<>(),", c) >= 0:
			toks = append(toks, token{tokOp, s[i : i+1], i, i + 1, false})
			i++
		default:
			_, n := utf8.DecodeRuneInString(s[i:])
			return nil, &filterError{fmt.Sprintf("unexpected character %q", s[i:i+n]), i, i + n}
		}
		if len(toks) > maxFilterTokens {
			return nil, &filterError{fmt.Sprintf("more than %d tokens", maxFilterTokens), i, len(s)}
		}
	}
	return toks, nil
}

// compiledFilter is a parsed filter: one condition over the flow tables
// whose values are bound in q. needRaw reports a condition the rollups
// cannot answer (a client port they fold to 0).
type compiledFilter struct {
	cond    string
	needRaw bool
	dims    []string // the dimensions it uses
}

// parseFilter compiles a filter into q's parameters; "" is no filter.
func parseFilter(s string, q *query.Builder) (*compiledFilter, error) {
	toks, err := lex(s, false)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return &compiledFilter{cond: "1"}, nil
	}
	p := &filterParser{toks: toks, q: q, end: len(s)}
	cond, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, &filterError{"expected AND, OR or the end, got " + strconv.Quote(t.text), t.start, t.end}
	}
	return &compiledFilter{cond: cond, needRaw: p.needRaw, dims: p.dims}, nil
}

type filterParser struct {
	toks    []token
	i       int
	q       *query.Builder
	end     int
	needRaw bool
	dims    []string
}

func (p *filterParser) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return token{kind: tokEOF, text: "the end", start: p.end, end: p.end}
}

func (p *filterParser) next() token { t := p.peek(); p.i++; return t }

func (p *filterParser) expectOp(op string) (token, error) {
	t := p.next()
	if t.kind != tokOp || t.text != op {
		return t, &filterError{fmt.Sprintf("expected %q, got %s", op, describe(t)), t.start, t.end}
	}
	return t, nil
}

func describe(t token) string {
	if t.kind == tokEOF {
		return "the end"
	}
	return strconv.Quote(t.text)
}

func (p *filterParser) or(depth int) (string, error) {
	return p.chain(depth, "OR", p.and)
}

func (p *filterParser) and(depth int) (string, error) {
	return p.chain(depth, "AND", p.unary)
}

// chain reads operands joined by a keyword.
func (p *filterParser) chain(depth int, kw string, operand func(int) (string, error)) (string, error) {
	first, err := operand(depth)
	if err != nil {
		return "", err
	}
	parts := []string{first}
	for p.peek().keyword(kw) {
		p.next()
		next, err := operand(depth)
		if err != nil {
			return "", err
		}
		parts = append(parts, next)
	}
	if len(parts) == 1 {
		return first, nil
	}
	return "(" + strings.Join(parts, ") "+kw+" (") + ")", nil
}

func (p *filterParser) unary(depth int) (string, error) {
	if depth > maxFilterDepth {
		t := p.peek()
		return "", &filterError{fmt.Sprintf("nested more than %d deep", maxFilterDepth), t.start, t.end}
	}
	t := p.peek()
	switch {
	case t.keyword("NOT"):
		p.next()
		c, err := p.unary(depth + 1)
		return "NOT (" + c + ")", err
	case t.kind == tokOp && t.text == "(":
		p.next()
		c, err := p.or(depth + 1)
		if err != nil {
			return "", err
		}
		if _, err := p.expectOp(")"); err != nil {
			return "", err
		}
		return "(" + c + ")", nil
	}
	return p.condition()
}

// condition reads Dim op value, Dim [NOT] IN (values), Dim [NOT] LIKE value.
func (p *filterParser) condition() (string, error) {
	t := p.next()
	if t.kind != tokWord {
		return "", &filterError{"expected a dimension, got " + describe(t), t.start, t.end}
	}
	d, ok := lookupDim(t.text)
	if !ok {
		return "", &filterError{fmt.Sprintf("unknown dimension %q", t.text), t.start, t.end}
	}
	p.dims = append(p.dims, d.Name)
	op := p.next()
	negate := false
	if op.keyword("NOT") {
		negate, op = true, p.next()
		if !op.keyword("IN") && !op.keyword("LIKE") {
			return "", &filterError{"expected IN or LIKE after NOT, got " + describe(op), op.start, op.end}
		}
	}
	switch {
	case op.keyword("IN"):
		return p.in(d, negate)
	case op.keyword("LIKE"):
		return p.like(d, negate)
	case op.kind == tokOp && compareOps[op.text]:
		v := p.next()
		return p.compare(d, op, v)
	}
	return "", &filterError{fmt.Sprintf("expected an operator after %s (=, !=, IN, NOT IN%s), got %s", d.Name, opsHint(d), describe(op)), op.start, op.end}
}

var compareOps = map[string]bool{"=": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true}

func opsHint(d filterDim) string {
	switch d.kind {
	case kindString:
		return ", LIKE"
	case kindPort, kindUint32:
		return ", <, <=, >, >="
	}
	return ""
}

func (p *filterParser) in(d filterDim, negate bool) (string, error) {
	if _, err := p.expectOp("("); err != nil {
		return "", err
	}
	var vals []string
	for {
		v := p.next()
		ph, err := p.bindValue(d, v, false)
		if err != nil {
			return "", err
		}
		vals = append(vals, ph)
		if len(vals) > maxInValues {
			return "", &filterError{fmt.Sprintf("more than %d values in IN", maxInValues), v.start, v.end}
		}
		sep := p.next()
		if sep.kind == tokOp && sep.text == ")" {
			break
		}
		if sep.kind != tokOp || sep.text != "," {
			return "", &filterError{"expected \",\" or \")\", got " + describe(sep), sep.start, sep.end}
		}
	}
	op := " IN ("
	if negate {
		op = " NOT IN ("
	}
	return d.col + op + strings.Join(vals, ", ") + ")", nil
}

func (p *filterParser) like(d filterDim, negate bool) (string, error) {
	v := p.next()
	if d.kind != kindString {
		return "", &filterError{"LIKE applies to names only, not " + d.Name, v.start, v.end}
	}
	if v.kind != tokString && v.kind != tokWord {
		return "", &filterError{"expected a pattern, got " + describe(v), v.start, v.end}
	}
	op := " LIKE "
	if negate {
		op = " NOT LIKE "
	}
	return d.col + op + p.q.Bind("String", v.text), nil
}

func (p *filterParser) compare(d filterDim, op, v token) (string, error) {
	ordered := op.text != "=" && op.text != "!="
	if ordered && d.kind != kindPort && d.kind != kindUint32 {
		return "", &filterError{op.text + " applies to numbers only, not " + d.Name, op.start, op.end}
	}
	if d.kind == kindIP && v.kind == tokWord && strings.Contains(v.text, "/") {
		pfx, err := netip.ParsePrefix(v.text)
		if err != nil {
			return "", &filterError{fmt.Sprintf("%q is not an address prefix", v.text), v.start, v.end}
		}
		cond := "isIPAddressInRange(toString(" + d.col + "), " + p.q.Bind("String", mappedPrefix(pfx.Masked())) + ")"
		if op.text == "!=" {
			cond = "NOT " + cond
		}
		return cond, nil
	}
	ph, err := p.bindValue(d, v, ordered)
	if err != nil {
		return "", err
	}
	return d.col + " " + op.text + " " + ph, nil
}

// mappedPrefix writes an IPv4 prefix as the IPv4-mapped IPv6 one the
// columns hold.
func mappedPrefix(p netip.Prefix) string {
	if p.Addr().Is4() {
		return netip.PrefixFrom(netip.AddrFrom16(p.Addr().As16()), p.Bits()+96).String()
	}
	return p.String()
}

// bindValue reads a value of d's kind and returns its placeholder.
func (p *filterParser) bindValue(d filterDim, v token, ordered bool) (string, error) {
	if v.kind != tokString && v.kind != tokWord {
		return "", &filterError{"expected a value for " + d.Name + ", got " + describe(v), v.start, v.end}
	}
	bad := func(what string) error {
		return &filterError{fmt.Sprintf("%q is not %s", v.text, what), v.start, v.end}
	}
	switch d.kind {
	case kindString:
		if len(v.text) > 253 {
			return "", &filterError{"longer than 253 characters", v.start, v.end}
		}
		return p.q.Bind("String", v.text), nil
	case kindCountry:
		if len(v.text) != 2 || !isLetters(v.text) {
			return "", bad("a two-letter country code")
		}
		return p.q.Bind("String", strings.ToUpper(v.text)), nil
	case kindIP:
		a, err := netip.ParseAddr(v.text)
		if err != nil || a.Zone() != "" {
			return "", bad("an IP address")
		}
		return p.q.Bind("IPv6", query.IPParam(a)), nil
	case kindPort:
		n, err := strconv.ParseUint(v.text, 10, 16)
		if err != nil {
			return "", bad("a port (0-65535)")
		}
		p.needRaw = p.needRaw || ordered || n == 0 || n >= ephemeralPort
		return p.q.Bind("UInt16", uint16(n)), nil
	case kindUint32:
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(v.text), "AS"), 10, 32)
		if err != nil {
			return "", bad("an integer from 0 to 4294967295")
		}
		return p.q.Bind("UInt32", uint32(n)), nil
	case kindProto:
		n, known := protoNumbers[strings.ToLower(v.text)]
		if !known {
			m, err := strconv.ParseUint(v.text, 10, 8)
			if err != nil {
				return "", bad("a protocol (TCP, UDP, ICMP, ICMPv6, SCTP, GRE, ESP or 0-255)")
			}
			n = m
		}
		return p.q.Bind("UInt8", uint8(n)), nil
	}
	return "", bad("a value")
}

func isLetters(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}
