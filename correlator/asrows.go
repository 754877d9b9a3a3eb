package correlator

import (
	"slices"

	"github.com/netstrata/netstrata/internal/ipdb"
	"github.com/netstrata/netstrata/internal/schema"
)

// asCols are the AS and country enrichment of one side of a flow.
type asCols struct {
	names         asColNames
	asn           []uint32
	name, country []string
}

// asColNames are the columns of one side's AS number, AS name and country.
type asColNames struct{ asn, name, country string }

// The AS columns of each side of a flow.
var (
	srcASColumns = asColNames{schema.FlowSrcAS, schema.FlowSrcASName, schema.FlowSrcCountry}
	dstASColumns = asColNames{schema.FlowDstAS, schema.FlowDstASName, schema.FlowDstCountry}
)

// add enriches ip. An AS number the exporter sent (its routing table's
// view, e.g. NetFlow src_as/dst_as) wins over the database's, which only
// names it; the country always comes from the database.
func (a *asCols) add(db *ipdb.DB, ip [16]byte, exported uint32) {
	var info ipdb.Info
	if ip != ([16]byte{}) {
		info = db.Lookup(ip)
	}
	if exported != 0 && exported != info.ASN {
		info.ASN, info.ASName = exported, db.ASName(exported)
	}
	a.asn = append(a.asn, info.ASN)
	a.name = append(a.name, info.ASName)
	a.country = append(a.country, info.Country)
}

func (a *asCols) reserve(n int) {
	a.asn = slices.Grow(a.asn, n)
	a.name = slices.Grow(a.name, n)
	a.country = slices.Grow(a.country, n)
}

func (a *asCols) columns() []column {
	return []column{{a.names.asn, a.asn}, {a.names.name, a.name}, {a.names.country, a.country}}
}
