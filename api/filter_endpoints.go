package api

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/query"
)

// The filter endpoints behind the console's editor: validate says where a
// filter goes wrong, complete what may come at the cursor. Offsets are in
// UTF-16 code units, as the browser counts text.

// FilterValidation says whether a filter reads, and where it goes wrong.
type FilterValidation struct {
	Valid      bool           `json:"valid"`
	Error      *FilterProblem `json:"error,omitempty"`
	Dimensions []string       `json:"dimensions" doc:"The dimensions the filter uses."`
}

// FilterProblem is what is wrong with a filter and where.
type FilterProblem struct {
	Message string `json:"message"`
	From    int    `json:"from" doc:"Start of the text at fault, in UTF-16 code units."`
	To      int    `json:"to" doc:"End of the text at fault, in UTF-16 code units."`
}

// FilterCompletion is what may replace the text from..to at the cursor.
type FilterCompletion struct {
	From    int            `json:"from" doc:"Start of the text the options replace, in UTF-16 code units."`
	To      int            `json:"to"`
	Expect  string         `json:"expect" doc:"What the text before the cursor expects: dimension, operator, value, list or connector."`
	Options []FilterOption `json:"options"`
}

// FilterOption is one completion.
type FilterOption struct {
	Label  string `json:"label"`
	Kind   string `json:"kind" doc:"dimension, operator, value or keyword."`
	Detail string `json:"detail,omitempty"`
	Apply  string `json:"apply" doc:"The text to insert (values quoted as the language needs)."`
}

var paramFilter = paramSpec{Name: "filter", Type: "string",
	Description: "Filter expression, e.g. `SrcPod = \"apm-agent-2\" AND DstPort IN (8081, 443) AND NOT Proto = UDP`: dimensions " + filterDimNames() +
		"; operators =, !=, IN (…), NOT IN (…), LIKE and NOT LIKE (names), <, <=, >, >= (numbers); AND, OR, NOT, parentheses; values quoted with \" when not a plain word. Up to 256 characters."}

func filterDimNames() string {
	var names []string
	for _, d := range filterDims {
		names = append(names, d.Name)
	}
	return strings.Join(names, ", ")
}

// filterRoutes are the filter endpoints.
func (c *Component) filterRoutes() []route {
	return []route{
		{Path: apiPrefix + "/filter/validate", Tag: "flows", Summary: "Check a filter expression and say where it goes wrong",
			Description: "The filter is parsed on the server into conditions whose values are bound query parameters (the same parser as /flows/explore); an error names the span of text at fault.",
			Params:      []paramSpec{paramFilter}, Response: FilterValidation{}, handle: c.handleFilterValidate},
		{Path: apiPrefix + "/filter/complete", Tag: "flows", Summary: "What may come at the cursor of a filter expression",
			Description: "Dimension names, operators for the dimension, its values seen in the range (by bytes, prefix-matched, read as /flows/topn reads the dimension: whole hours from the hourly rollups; ports from the raw flows or the session rollup, as the other rollups fold a client's port to 0) or AND/OR/parentheses, and the span they replace.",
			Params: []paramSpec{paramFilter, paramFrom, paramTo,
				{Name: "cursor", Type: "integer", Maximum: maxParamLen, Description: "Cursor position in UTF-16 code units (default: the end)."}},
			Response: FilterCompletion{}, handle: c.handleFilterComplete},
	}
}

func (c *Component) handleFilterValidate(_ context.Context, p *params) (any, error) {
	text := p.str("filter")
	f, err := parseFilter(text, &query.Builder{})
	var fe *filterError
	if errors.As(err, &fe) {
		return FilterValidation{Error: &FilterProblem{Message: fe.Message, From: utf16Len(text[:fe.Start]), To: utf16Len(text[:fe.End])}, Dimensions: []string{}}, nil
	}
	if err != nil {
		return nil, err
	}
	return FilterValidation{Valid: true, Dimensions: append([]string{}, f.dims...)}, nil
}

func (c *Component) handleFilterComplete(ctx context.Context, p *params) (any, error) {
	text := p.str("filter")
	cursor := len(text)
	if n, ok, err := p.integer(paramSpec{Name: "cursor", Maximum: maxParamLen}); err != nil {
		return nil, err
	} else if ok {
		cursor = byteOffset(text, int(n))
	}
	before := text[:cursor]
	cc, err := completeContext(before)
	var fe *filterError
	if errors.As(err, &fe) {
		return FilterCompletion{From: utf16Len(before), To: utf16Len(before), Expect: "", Options: []FilterOption{}}, nil
	}
	resp := FilterCompletion{From: utf16Len(text[:cc.partial.start]), To: utf16Len(before), Expect: cc.expect, Options: []FilterOption{}}
	prefix := strings.ToLower(cc.partial.text)
	add := func(label, kind, detail, apply string) {
		if strings.HasPrefix(strings.ToLower(label), prefix) {
			resp.Options = append(resp.Options, FilterOption{Label: label, Kind: kind, Detail: detail, Apply: apply})
		}
	}
	switch cc.expect {
	case expectDimension:
		for _, d := range filterDims {
			add(d.Name, optDimension, d.Doc, d.Name+" ")
		}
		add("NOT", optKeyword, "negates what follows", "NOT ")
		add("(", optKeyword, "groups conditions", "(")
	case expectOperator:
		if cc.inList {
			add("(", optKeyword, "the list of values", "(")
			break
		}
		for _, op := range operatorsFor(cc.dim) {
			apply := op + " "
			if strings.HasSuffix(op, "IN") {
				apply = op + " ("
			}
			add(op, optOperator, "", apply)
		}
	case expectValue:
		if !cc.known {
			break
		}
		from, to, err := p.timeRange(time.Hour, c.cfg.MaxRange)
		if err != nil {
			return nil, err
		}
		values, err := c.completeValues(ctx, cc.dim, cc.partial.text, from, to)
		if err != nil {
			return nil, err
		}
		for _, v := range values {
			apply := v
			if cc.dim.kind == kindString {
				apply = quoteFilterValue(v)
			}
			resp.Options = append(resp.Options, FilterOption{Label: v, Kind: optValue, Detail: cc.dim.Name, Apply: apply + " "})
		}
	case expectList:
		add(",", optKeyword, "another value", ", ")
		add(")", optKeyword, "end of the list", ") ")
	case expectConnector:
		add("AND", optKeyword, "both conditions", "AND ")
		add("OR", optKeyword, "either condition", "OR ")
		if cc.open > 0 {
			add(")", optKeyword, "closes the group", ") ")
		}
	}
	return resp, nil
}

// maxCompletions bounds the values offered at once.
const maxCompletions = 20

// protoNames are the protocol names completion offers.
var protoNames = []string{"TCP", "UDP", "ICMP", "ICMPv6", "SCTP", "GRE", "ESP"}

// completeValues lists a dimension's values seen in the range that start
// with prefix (any case), the most bytes first. It reads what a TopN of
// the dimension's column reads (splitSource): over a day, the hourly
// rollup's hours; ports from the raw flows or their session rollup, as
// the other rollups fold a client's port to 0. The values are grouped as
// stored and formatted after, once each.
func (c *Component) completeValues(ctx context.Context, d filterDim, prefix string, from, to time.Time) ([]string, error) {
	out := []string{}
	if d.kind == kindProto {
		for _, n := range protoNames {
			if strings.HasPrefix(strings.ToLower(n), strings.ToLower(prefix)) {
				out = append(out, n)
			}
		}
		return out, nil
	}
	expr := "toString(c)"
	if d.kind == kindIP {
		expr = ipText("c")
	}
	q := &query.Builder{}
	src, err := c.splitSource(ctx, q, []string{d.col}, from, to, d.kind == kindPort)
	if err != nil {
		return nil, err
	}
	inner := "SELECT " + d.col + " AS c, sum(" + src.bytes + ") AS b, toUInt64(sum(" + src.flows + ")) AS n FROM " + src.from +
		" WHERE " + q.Where() + " GROUP BY c HAVING n > 0"
	named := "v != ''"
	if prefix != "" {
		named += " AND startsWith(lower(v), " + q.Bind("String", strings.ToLower(prefix)) + ")"
	}
	sql := "SELECT v FROM (SELECT " + expr + " AS v, b FROM (" + inner + ")) WHERE " + named +
		" ORDER BY b DESC, v LIMIT " + q.Bind("UInt32", uint32(maxCompletions))
	err = c.run(ctx, "filter_complete", sql, q.Args, func(rows driver.Rows) error {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// utf16Len is the length of s in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// byteOffset is the byte offset of the UTF-16 offset u in s (the end when
// u is past it, the rune's start when u falls inside one).
func byteOffset(s string, u int) int {
	n := 0
	for i, r := range s {
		if n >= u {
			return i
		}
		n += utf16.RuneLen(r)
	}
	return len(s)
}
