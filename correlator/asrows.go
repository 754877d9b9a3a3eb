package correlator

import (
	"slices"

	"github.com/netstrata/netstrata/internal/ipdb"
)

// asCols are the AS and country enrichment of one side of a flow.
type asCols struct {
	prefix        string
	asn           []uint32
	name, country []string
}

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
	return []column{{a.prefix + "_as", a.asn}, {a.prefix + "_as_name", a.name}, {a.prefix + "_country", a.country}}
}
