package api

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ipText renders an IPv6 column as users write addresses (IPv4-mapped as
// IPv4).
func ipText(col string) string {
	return "replaceRegexpOne(toString(" + col + "), '^::ffff:', '')"
}

// dimension is how one `by` value groups and names its rows: the inner
// query groups by the raw columns (cheap), the outer one formats only the
// rows kept.
type dimension struct {
	group   string // grouping expressions, aliased g (and h)
	extra   string // aggregates of name columns, aliased, or ""
	display string // the key text, from the aliases
}

const exporterName = "if(en != '', toString(en), " + "replaceRegexpOne(toString(g), '^::ffff:', '')" + ")"

// topNDimensions maps each `by` value to its SQL. The keys of this map
// are the only dimension names accepted; the values are constants.
var topNDimensions = map[string]dimension{
	"app":           {group: "application AS g", display: "toString(g)"},
	"proto":         {group: "proto AS g", display: "toString(g)"},
	"dst_port":      {group: "dst_port AS g", display: "toString(g)"},
	"src_port":      {group: "src_port AS g", display: "toString(g)"},
	"src_ip":        {group: "src_ip AS g", display: ipText("g")},
	"dst_ip":        {group: "dst_ip AS g", display: ipText("g")},
	"conversation":  {group: "least(src_ip, dst_ip) AS g, greatest(src_ip, dst_ip) AS h", display: "concat(" + ipText("g") + ", ' <-> ', " + ipText("h") + ")"},
	"exporter":      {group: "exporter_ip AS g", extra: "any(exporter_name) AS en", display: exporterName},
	"in_if":         {group: "exporter_ip AS g, in_if AS h", extra: "any(exporter_name) AS en, any(in_if_name) AS ifn", display: "concat(" + exporterName + ", ':', if(ifn != '', toString(ifn), toString(h)))"},
	"out_if":        {group: "exporter_ip AS g, out_if AS h", extra: "any(exporter_name) AS en, any(out_if_name) AS ifn", display: "concat(" + exporterName + ", ':', if(ifn != '', toString(ifn), toString(h)))"},
	"src_pod":       {group: "src_namespace AS g, src_pod AS h", display: "if(h = '', '', concat(g, '/', h))"},
	"dst_pod":       {group: "dst_namespace AS g, dst_pod AS h", display: "if(h = '', '', concat(g, '/', h))"},
	"src_namespace": {group: "src_namespace AS g", display: "toString(g)"},
	"dst_namespace": {group: "dst_namespace AS g", display: "toString(g)"},
	"src_node":      {group: "src_node AS g", display: "toString(g)"},
	"dst_node":      {group: "dst_node AS g", display: "toString(g)"},
}

// groupAliases lists the aliases a grouping defines ("g" or "g, h").
func (d dimension) groupAliases() string {
	if strings.Contains(d.group, " AS h") {
		return "g, h"
	}
	return "g"
}

func dimensionNames() []string {
	names := make([]string, 0, len(topNDimensions))
	for k := range topNDimensions {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func (c *Component) topNParams() []paramSpec {
	return append([]paramSpec{
		{Name: "by", Type: "string", Required: true, Enum: dimensionNames(), Description: "Dimension to rank."},
		paramFrom, paramTo, paramLimit(c.cfg.MaxLimit),
	}, flowFilterParams...)
}

func (c *Component) handleTopN(ctx context.Context, p *params) (any, error) {
	if !p.has("by") {
		return nil, &paramError{Param: "by", Message: "required", Valid: dimensionNames()}
	}
	by, err := p.enum("by", "", dimensionNames())
	if err != nil {
		return nil, &paramError{Param: "by", Message: "unknown dimension " + quote(p.str("by")), Valid: dimensionNames()}
	}
	from, to, err := p.timeRange(time.Hour, c.cfg.MaxRange)
	if err != nil {
		return nil, err
	}
	limit, err := p.limit(20, c.cfg.MaxLimit)
	if err != nil {
		return nil, err
	}
	q := &query{}
	needRaw, err := flowFilters(p, q)
	if err != nil {
		return nil, err
	}
	table, timeCol, bytes, packets, flows, f, t := c.flowSource(from, to, needRaw)
	timeCond(q, timeCol, f, t)
	dim := topNDimensions[by]
	extra := ""
	if dim.extra != "" {
		extra = dim.extra + ", "
	}
	sql := `SELECT ` + dim.display + ` AS k, b, p, n, sum(b) OVER (), sum(p) OVER (), sum(n) OVER ()
FROM (
	SELECT ` + dim.group + `, ` + extra + `sum(` + bytes + `) AS b, sum(` + packets + `) AS p, toUInt64(sum(` + flows + `)) AS n
	FROM ` + table + ` WHERE ` + q.where() + `
	GROUP BY ` + dim.groupAliases() + `
)
ORDER BY b DESC, k
LIMIT ` + q.bind("UInt32", uint32(limit))
	seconds := to.Sub(from).Seconds()
	resp := TopNResponse{Range: Range{From: from, To: to, Source: table}, By: by, Rows: []TopNRow{}, Total: TopNRow{Key: "total"}}
	err = c.run(ctx, "topn", sql, q.args, func(rows driver.Rows) error {
		var r TopNRow
		if err := rows.Scan(&r.Key, &r.Bytes, &r.Packets, &r.Flows, &resp.Total.Bytes, &resp.Total.Packets, &resp.Total.Flows); err != nil {
			return err
		}
		switch {
		case r.Key == "":
			r.Key = "(none)"
		case r.Key == "0" && table != "flows" && (by == "src_port" || by == "dst_port"):
			r.Key = "ephemeral" // the rollups fold client ports to 0
		}
		r.Bps = float64(r.Bytes) * 8 / seconds
		resp.Rows = append(resp.Rows, r)
		return nil
	})
	resp.Total.Bps = float64(resp.Total.Bytes) * 8 / seconds
	return resp, err
}

func quote(s string) string { return "\"" + clip(s) + "\"" }
