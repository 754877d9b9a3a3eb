// Package query builds the API's ClickHouse queries: WHERE conditions
// whose every value is a bound parameter, the text forms those
// parameters take, and the spans that read a layer's rows as time
// intervals. The server's endpoints and the investigation share it; it
// knows no HTTP request.
package query

import (
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Builder accumulates WHERE conditions whose every value is a bound
// parameter ({pN:Type}); the SQL text holds only constants of the
// calling package, never request text.
type Builder struct {
	Conds []string // the conditions, ANDed by Where
	Args  []any    // the bound parameters, to pass with the SQL
}

// Bind adds a parameter and returns its placeholder. typ is a constant.
func (q *Builder) Bind(typ string, v any) string {
	name := fmt.Sprintf("p%d", len(q.Args))
	q.Args = append(q.Args, clickhouse.Named(name, v))
	return "{" + name + ":" + typ + "}"
}

// And adds a condition, built from constants and placeholders of Bind.
func (q *Builder) And(cond string) { q.Conds = append(q.Conds, cond) }

// Where renders the conditions joined by AND ("1" when none).
func (q *Builder) Where() string {
	if len(q.Conds) == 0 {
		return "1"
	}
	return "(" + strings.Join(q.Conds, ") AND (") + ")"
}

// TupleIn adds the condition that the tuple of cols is one of rows,
// each value bound with the type of its column; false without rows.
func (q *Builder) TupleIn(cols, types []string, rows [][]any) {
	if len(rows) == 0 {
		q.And("0")
		return
	}
	tuples := make([]string, len(rows))
	for i, row := range rows {
		ph := make([]string, len(row))
		for j, v := range row {
			ph[j] = q.Bind(types[j], v)
		}
		tuples[i] = "(" + strings.Join(ph, ", ") + ")"
	}
	q.And("(" + strings.Join(cols, ", ") + ") IN (" + strings.Join(tuples, ", ") + ")")
}

// Clone copies q so that a variant can add conditions.
func (q *Builder) Clone() *Builder {
	return &Builder{Conds: append([]string(nil), q.Conds...), Args: append([]any(nil), q.Args...)}
}

// TimeCond restricts col to [from, to) with bound DateTime64 parameters.
func TimeCond(q *Builder, col string, from, to time.Time) {
	q.And(q.Between(col, from, to))
}

// Between is the condition that col is in [from, to), with bound
// DateTime64 parameters, for a caller that combines it with others.
func (q *Builder) Between(col string, from, to time.Time) string {
	return q.between(col, "DateTime64(3, 'UTC')", Time(from), Time(to))
}

// BetweenSeconds is Between for a DateTime column (the rollups' time),
// with parameters of its type: not converted row by row to DateTime64.
func (q *Builder) BetweenSeconds(col string, from, to time.Time) string {
	return q.between(col, "DateTime('UTC')", from.UTC().Format(time.DateTime), to.UTC().Format(time.DateTime))
}

func (q *Builder) between(col, typ, from, to string) string {
	return col + " >= " + q.Bind(typ, from) + " AND " + col + " < " + q.Bind(typ, to)
}
