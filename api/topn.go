package api

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
)

// ipText renders an IPv6 column as users write addresses (IPv4-mapped as
// IPv4).
func ipText(col string) string {
	return "replaceRegexpOne(toString(" + col + "), '^::ffff:', '')"
}

// dimension is how one `by` value groups and names its rows: the inner
// query groups by the raw columns (cheap), the outer one formats only the
// rows kept. In display, $0, $1… stand for the grouping columns and @0,
// @1… for the name aggregates.
type dimension struct {
	cols    []string // grouping expressions
	names   []string // aggregates of name columns
	display string   // the key text
	raw     bool     // needs unfolded ports: the raw table
}

const exporterName = "if(@0 != '', toString(@0), " + "replaceRegexpOne(toString($0), '^::ffff:', '')" + ")"

// asName shows an AS as "AS15169 Google LLC", or "" (none) for AS 0.
const asName = "if($0 = 0, '', concat('AS', toString($0), if(@0 != '', concat(' ', @0), '')))"

// anyOf is the aggregate a dimension names its rows' key by: any value
// of col within the group.
func anyOf(col string) string { return "any(" + col + ")" }

// topNDimensions maps each `by` value to its SQL. The keys of this map
// are the only dimension names accepted; the values are constants. The
// fields of schema version 12 are in flowFieldDimensions.
var topNDimensions = withFlowFieldDimensions(map[string]dimension{
	"app":           {cols: []string{schema.FlowApplication}, display: "toString($0)"},
	"proto":         {cols: []string{schema.FlowProto}, display: "toString($0)"},
	"dst_port":      {cols: []string{schema.FlowDstPort}, display: "toString($0)"},
	"src_port":      {cols: []string{schema.FlowSrcPort}, display: "toString($0)"},
	"src_ip":        {cols: []string{schema.FlowSrcIP}, display: ipText("$0")},
	"dst_ip":        {cols: []string{schema.FlowDstIP}, display: ipText("$0")},
	"conversation":  {cols: []string{"least(src_ip, dst_ip)", "greatest(src_ip, dst_ip)"}, display: "concat(" + ipText("$0") + ", ' <-> ', " + ipText("$1") + ")"},
	"exporter":      {cols: []string{schema.FlowExporterIP}, names: []string{anyOf(schema.FlowExporterName)}, display: exporterName},
	"in_if":         {cols: []string{schema.FlowExporterIP, schema.FlowInIf}, names: []string{anyOf(schema.FlowExporterName), anyOf(schema.FlowInIfName)}, display: "concat(" + exporterName + ", ':', if(@1 != '', toString(@1), toString($1)))"},
	"out_if":        {cols: []string{schema.FlowExporterIP, schema.FlowOutIf}, names: []string{anyOf(schema.FlowExporterName), anyOf(schema.FlowOutIfName)}, display: "concat(" + exporterName + ", ':', if(@1 != '', toString(@1), toString($1)))"},
	"src_pod":       {cols: []string{schema.FlowSrcNamespace, schema.FlowSrcPod}, display: "if($1 = '', '', concat($0, '/', $1))"},
	"dst_pod":       {cols: []string{schema.FlowDstNamespace, schema.FlowDstPod}, display: "if($1 = '', '', concat($0, '/', $1))"},
	"src_namespace": {cols: []string{schema.FlowSrcNamespace}, display: "toString($0)"},
	"dst_namespace": {cols: []string{schema.FlowDstNamespace}, display: "toString($0)"},
	"src_node":      {cols: []string{schema.FlowSrcNode}, display: "toString($0)"},
	"dst_node":      {cols: []string{schema.FlowDstNode}, display: "toString($0)"},
	// An AS by number and name; a country by its ISO 3166-1 code.
	"src_as":      {cols: []string{schema.FlowSrcAS}, names: []string{anyOf(schema.FlowSrcASName)}, display: asName},
	"dst_as":      {cols: []string{schema.FlowDstAS}, names: []string{anyOf(schema.FlowDstASName)}, display: asName},
	"src_country": {cols: []string{schema.FlowSrcCountry}, display: "toString($0)"},
	"dst_country": {cols: []string{schema.FlowDstCountry}, display: "toString($0)"},
	// A session: protocol and both ends with their ports, unfolded.
	"five_tuple": {cols: []string{schema.FlowProto, schema.FlowSrcIP, schema.FlowSrcPort, schema.FlowDstIP, schema.FlowDstPort}, raw: true,
		display: "concat(multiIf($0 = 6, 'tcp', $0 = 17, 'udp', $0 = 1, 'icmp', toString($0)), ' ', " + ipText("$1") + ", ':', toString($2), ' → ', " + ipText("$3") + ", ':', toString($4))"},
})

// sql renders the dimension as the n-th of a group-by: its grouping
// columns and name aggregates aliased apart from the other's, and its key.
func (d dimension) sql(n int) (group, names []string, key string) {
	key = d.display
	for i, c := range d.cols {
		alias := fmt.Sprintf("c%d_%d", n, i)
		group = append(group, c+" AS "+alias)
		key = strings.ReplaceAll(key, fmt.Sprintf("$%d", i), alias)
	}
	for i, a := range d.names {
		alias := fmt.Sprintf("a%d_%d", n, i)
		names = append(names, a+" AS "+alias)
		key = strings.ReplaceAll(key, fmt.Sprintf("@%d", i), alias)
	}
	return group, names, key
}

func dimensionNames() []string {
	names := make([]string, 0, len(topNDimensions))
	for k := range topNDimensions {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// paramBy is the `by` parameter: one dimension, or two separated by a
// comma; its pattern is the whole rule.
var paramBy = func() paramSpec {
	one := "(" + strings.Join(dimensionNames(), "|") + ")"
	return paramSpec{Name: "by", Type: "string", Required: true, Pattern: "^" + one + "(," + one + ")?$",
		Description: "Dimension to rank, or two separated by a comma (e.g. src_pod,dst_port) for every pair of their values: " + strings.Join(dimensionNames(), ", ") + "."}
}()

// paramCursor continues a TopN from where the previous page ended.
var paramCursor = paramSpec{Name: "cursor", Type: "string", Pattern: `^[A-Za-z0-9_-]{1,240}$`,
	Description: "next_cursor of the previous page: the next rows of the same ranking, over the same range."}

func (c *Component) topNParams() []paramSpec {
	specs := append([]paramSpec{paramBy, paramFrom, paramTo, paramLimit(c.cfg.MaxLimit), paramCursor}, flowFilterParams...)
	return append(specs, flowFieldFilterParams...)
}

// readBy reads the dimensions of `by`, a repeated one counted once.
func readBy(p *params) ([]string, error) {
	if !p.has("by") {
		return nil, &paramError{Param: "by", Message: "required", Valid: dimensionNames()}
	}
	v, err := p.matching(paramBy)
	if err != nil {
		return nil, &paramError{Param: "by", Message: "unknown dimension " + quote(p.str("by")) + " (one, or two separated by a comma)", Valid: dimensionNames()}
	}
	by := strings.Split(v, ",")
	if len(by) == 2 && by[0] == by[1] {
		by = by[:1]
	}
	return by, nil
}

// readByOverRange reads what /flows/topn and /flows/explore both rank:
// the dimensions of `by` over the range (an hour by default).
func (c *Component) readByOverRange(p *params) (by []string, from, to time.Time, err error) {
	if by, err = readBy(p); err != nil {
		return nil, from, to, err
	}
	from, to, err = p.timeRange(time.Hour, c.cfg.MaxRange)
	return by, from, to, err
}

func (c *Component) handleTopN(ctx context.Context, p *params) (any, error) {
	by, from, to, err := c.readByOverRange(p)
	if err != nil {
		return nil, err
	}
	limit, err := p.limit(20, c.cfg.MaxLimit)
	if err != nil {
		return nil, err
	}
	q := &query.Builder{}
	needRaw, err := flowFilters(p, q)
	if err != nil {
		return nil, err
	}
	cur, err := readCursor(p)
	if err != nil {
		return nil, err
	}
	if cur != nil {
		from, to = cur.range_()
	}
	for _, name := range by {
		needRaw = needRaw || topNDimensions[name].raw
	}
	filters := q.Clone()
	src, err := c.topNSource(ctx, q, by, from, to, needRaw)
	if err != nil {
		return nil, err
	}
	resp := TopNResponse{Range: Range{From: from, To: to, Source: src.source}, By: strings.Join(by, ","), Dimensions: by,
		Rows: []TopNRow{}, Total: TopNRow{Key: "total"}, Other: TopNRow{Key: "other"}}
	named := q.Clone()
	sql := topNSQL(q, by, src, cur, limit)
	seconds := to.Sub(from).Seconds()
	err = c.run(ctx, "topn", sql, q.Args, func(rows driver.Rows) error {
		var r TopNRow
		r.Keys = make([]string, len(by))
		dest := make([]any, 0, len(by)+6)
		for i := range r.Keys {
			dest = append(dest, &r.Keys[i])
		}
		dest = append(dest, &r.Bytes, &r.Packets, &r.Flows, &resp.Total.Bytes, &resp.Total.Packets, &resp.Total.Flows, &r.Hash)
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		resp.Rows = append(resp.Rows, r)
		return nil
	})
	if err == nil && wide(by) && len(resp.Rows) > 0 {
		err = c.nameTopNRows(ctx, named, by, src, resp.Rows)
	}
	if err != nil {
		return nil, err
	}
	for i := range resp.Rows {
		r := &resp.Rows[i]
		for i, k := range r.Keys {
			r.Keys[i] = topNKey(k, by[i], src.source)
		}
		r.Key = strings.Join(r.Keys, " | ")
	}
	if len(resp.Rows) > limit {
		resp.Rows = resp.Rows[:limit]
		resp.NextCursor = newCursor(from, to, resp.Rows[limit-1], queryHash(p)).encode()
	}
	finishTopN(&resp, seconds)
	if resp.Total.Flows == 0 && cur == nil {
		if resp.Outside, err = c.investigator.OutsideRange(ctx, filters, from, to); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// topNSQL ranks the groups of the dimensions by bytes (rankingSQL).
func topNSQL(q *query.Builder, by []string, src flowTable, cur *cursor, limit int) string {
	return rankingSQL(q, by, src, "b", cur, limit)
}

// rankingSQL ranks the groups of the dimensions by rank (b, p or n: their
// bytes, packets or flows; a cursor's pages rank by bytes) from after the
// cursor, equal ones by a hash of their values, on the raw columns: only
// the rows kept are formatted, so that a ranking of millions of sessions
// costs a sort, not millions of strings. The totals are window sums over
// the same groups, in the one pass that ranks them (the cursor is applied
// after them, so every page has the whole range's totals). One row more
// than limit tells whether another page follows. A group without flows
// is one a split source's negated rows cancel (splitHours).
func rankingSQL(q *query.Builder, by []string, src flowTable, rank string, cur *cursor, limit int) string {
	d := groupingSQL(by)
	inner, keys := append(append([]string{}, d.group...), d.names...), d.keys
	hash, groupBy := "cityHash64("+strings.Join(d.aliases, ", ")+") AS hk", strings.Join(d.aliases, ", ")
	if wide(by) {
		// A wide key (a session) is grouped by its 64-bit hash: a hash
		// table of UInt64 is much faster than one of tuples of addresses
		// and ports, with a chance of two sessions merging of about 1 in
		// 10^4 over 50M distinct ones. Its keys are read afterwards, for
		// the rows kept (nameTopNRows).
		inner, hash, groupBy, keys = nil, "cityHash64("+strings.Join(d.exprs, ", ")+") AS hk", "hk", nil
		for n := range by {
			keys = append(keys, fmt.Sprintf("'' AS k%d", n))
		}
	}
	after := "1"
	if cur != nil {
		b, h := q.Bind("UInt64", cur.Bytes), q.Bind("UInt64", cur.Hash)
		after = rank + " < " + b + " OR (" + rank + " = " + b + " AND hk > " + h + ")"
	}
	return `SELECT ` + strings.Join(keys, ", ") + `, b, p, n, tb, tp, tn, hk
FROM (
	SELECT * FROM (
		SELECT ` + strings.Join(append(inner, ""), ", ") + `sum(` + src.bytes + `) AS b, sum(` + src.packets + `) AS p, toUInt64(sum(` + src.flows + `)) AS n,
			` + hash + `, sum(b) OVER () AS tb, sum(p) OVER () AS tp, sum(n) OVER () AS tn
		FROM ` + src.from + ` WHERE ` + q.Where() + `
		GROUP BY ` + groupBy + `
		HAVING n > 0
	) WHERE ` + after + `
	ORDER BY ` + rank + ` DESC, hk
	LIMIT ` + q.Bind("UInt32", uint32(limit+1)) + `
) AS r
ORDER BY ` + rank + ` DESC, hk`
}

// wide reports whether the dimensions group by so many columns that the
// ranking groups by their hash (wideKey).
func wide(by []string) bool { return len(groupingSQL(by).group) >= wideKey }

// nameTopNRows sets the keys of the rows of a wide ranking from the first
// flow of each one's hash: reading on until each is found costs at most
// one more pass, and usually a few blocks, where any() of every column
// kept for every session of the ranking cost more than ranking them. A
// name column (an interface's, an AS's) is the first row's too, which
// any() also was. The source's names subquery (its complete session
// blocks, compact) is searched first, the whole source only for the
// hashes it lacks.
func (c *Component) nameTopNRows(ctx context.Context, q *query.Builder, by []string, src flowTable, rows []TopNRow) error {
	at := map[uint64][]int{}
	hashes := make([]uint64, 0, len(rows))
	for i, r := range rows {
		if at[r.Hash] == nil {
			hashes = append(hashes, r.Hash)
		}
		at[r.Hash] = append(at[r.Hash], i)
	}
	for _, from := range []string{src.names, src.from} {
		if from == "" || len(hashes) == 0 {
			continue
		}
		found, err := c.findTopNKeys(ctx, q.Clone(), by, from, hashes, func(h uint64, keys []string) {
			for _, i := range at[h] {
				copy(rows[i].Keys, keys)
			}
		})
		if err != nil {
			return err
		}
		hashes = slices.DeleteFunc(hashes, func(h uint64) bool { return found[h] })
	}
	return nil
}

// findTopNKeys reads the keys of the groups of a wide ranking whose hashes
// are given from the first row of each in from, and tells which it found.
func (c *Component) findTopNKeys(ctx context.Context, q *query.Builder, by []string, from string, hashes []uint64, set func(uint64, []string)) (map[uint64]bool, error) {
	d := groupingSQL(by)
	cols := append([]string{}, d.group...)
	for _, n := range d.names {
		cols = append(cols, strings.Replace(strings.TrimPrefix(n, "any("), ") AS ", " AS ", 1))
	}
	sql := `SELECT ` + strings.Join(d.keys, ", ") + `, hk FROM (
	SELECT ` + strings.Join(cols, ", ") + `, cityHash64(` + strings.Join(d.exprs, ", ") + `) AS hk
	FROM ` + from + ` WHERE ` + q.Where() + ` AND hk IN ` + q.Bind("Array(UInt64)", hashes) + `
	LIMIT 1 BY hk
	LIMIT ` + q.Bind("UInt32", uint32(len(hashes))) + `
)`
	found := map[uint64]bool{}
	err := c.run(ctx, "topn_keys", sql, q.Args, func(res driver.Rows) error {
		keys := make([]string, len(by))
		dest := make([]any, 0, len(by)+1)
		for i := range keys {
			dest = append(dest, &keys[i])
		}
		var h uint64
		if err := res.Scan(append(dest, &h)...); err != nil {
			return err
		}
		found[h] = true
		set(h, keys)
		return nil
	})
	return found, err
}

// grouping is the SQL of a group-by over dimensions: the grouping
// expressions aliased ("expr AS cN_M"), the name aggregates, the keys
// ("… AS kN"), and the grouping expressions and aliases apart.
type grouping struct{ group, names, keys, exprs, aliases []string }

func groupingSQL(by []string) grouping {
	var d grouping
	for n, name := range by {
		g, a, k := topNDimensions[name].sql(n)
		d.group, d.names = append(d.group, g...), append(d.names, a...)
		d.keys = append(d.keys, k+fmt.Sprintf(" AS k%d", n))
	}
	for _, g := range d.group {
		i := strings.LastIndex(g, " AS ")
		d.exprs, d.aliases = append(d.exprs, g[:i]), append(d.aliases, g[i+4:])
	}
	return d
}

// foldsPorts reports whether a source (Range.Source) is the minute or
// hour rollups, whose client ports are folded to 0.
func foldsPorts(source string) bool {
	return strings.HasPrefix(source, schema.TableFlows1m) || strings.HasPrefix(source, schema.TableFlows1h)
}

// wideKey is the number of grouping columns from which a group is keyed
// by their hash.
const wideKey = 3

// topNKey names an empty key and the rollups' folded client port.
func topNKey(k, by, source string) string {
	switch {
	case k == "":
		return "(none)"
	case k == "0" && foldsPorts(source) && (by == "src_port" || by == "dst_port"):
		return "ephemeral" // the rollups fold client ports to 0
	}
	return k
}

// finishTopN sets the rates and shares, and the "other" row: the total less
// this page's rows, so that a page's shares and other's add up to 1.
func finishTopN(r *TopNResponse, seconds float64) {
	var b, p, n uint64
	for i := range r.Rows {
		row := &r.Rows[i]
		b, p, n = b+row.Bytes, p+row.Packets, n+row.Flows
		rowRate(row, seconds, r.Total.Bytes)
	}
	if r.Total.Bytes >= b {
		r.Other.Bytes, r.Other.Packets, r.Other.Flows = r.Total.Bytes-b, r.Total.Packets-min(p, r.Total.Packets), r.Total.Flows-min(n, r.Total.Flows)
	}
	rowRate(&r.Other, seconds, r.Total.Bytes)
	rowRate(&r.Total, seconds, r.Total.Bytes)
}

func rowRate(row *TopNRow, seconds float64, total uint64) {
	row.Bps = float64(row.Bytes) * 8 / seconds
	if total > 0 {
		row.Share = apiv1.Round(float64(row.Bytes)/float64(total), 4)
	}
}

func quote(s string) string { return "\"" + clip(s) + "\"" }
