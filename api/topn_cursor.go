package api

import (
	"encoding/base64"
	"encoding/json"
	"hash/fnv"
	"sort"
	"strings"
	"time"
)

// cursor is where a TopN page ended: the last row's bytes and the hash
// of its values (the order of equal rows), the range (pinned, so that
// "-1h" does not move between pages) and a hash of the other parameters
// (a cursor continues only the ranking it came from).
type cursor struct {
	Bytes uint64 `json:"b"`
	Hash  uint64 `json:"h"`
	From  int64  `json:"f"` // Unix ms
	To    int64  `json:"t"`
	Query uint64 `json:"q"`
}

func newCursor(from, to time.Time, last TopNRow, query uint64) *cursor {
	return &cursor{Bytes: last.Bytes, Hash: last.Hash, From: from.UnixMilli(), To: to.UnixMilli(), Query: query}
}

func (c *cursor) range_() (time.Time, time.Time) {
	return time.UnixMilli(c.From).UTC(), time.UnixMilli(c.To).UTC()
}

func (c *cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// readCursor decodes the cursor parameter, nil when absent; it must come
// from the same ranking (by and filters).
func readCursor(p *params) (*cursor, error) {
	v, err := p.matching(paramCursor)
	if err != nil || v == "" {
		return nil, err
	}
	bad := badParam("cursor", "not a next_cursor of this ranking (same by and filters)")
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, bad
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil || c.From >= c.To || c.Query != queryHash(p) {
		return nil, bad
	}
	return &c, nil
}

// queryHash identifies a ranking: its parameters but the page's own.
func queryHash(p *params) uint64 {
	var names []string
	for n := range p.values {
		if n != "cursor" && n != "limit" && n != "from" && n != "to" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	h := fnv.New64a()
	for _, n := range names {
		h.Write([]byte(n + "=" + strings.Join(p.values[n], ",") + "&"))
	}
	return h.Sum64()
}
