package ipdb

import (
	"fmt"
	"os"
	"strings"
)

// Info is what the databases say about one address; zero values when
// they say nothing.
type Info struct {
	ASN     uint32
	ASName  string
	Country string // ISO 3166-1 alpha-2
}

// Files are the CSV files of a database set: "first,last,asn,name" lines
// and "first,last,country" lines, IPv4 and IPv6 alike.
type Files struct {
	ASN     []string
	Country []string
}

// asEntry is an AS number and its name.
type asEntry struct {
	asn  uint32
	name string
}

// DB is a loaded, immutable database set; safe for concurrent lookups.
type DB struct {
	asn       *table
	entries   []asEntry         // the values of asn's ranges
	index     map[uint32]uint32 // AS number → its entry
	country   *table
	countries []string
	nameBytes int
}

// DefaultMaxRanges bounds a load to about four times the ranges of the
// pinned databases (728,000), some 120 MB at most.
const DefaultMaxRanges = 3_000_000

// Load reads files into memory, refusing more than maxRanges ranges in
// all (0: no bound) so that a wrong file cannot take the process's memory.
func Load(files Files, maxRanges int) (*DB, error) {
	db := &DB{asn: newTable(), index: map[uint32]uint32{}, country: newTable()}
	budget := func() error {
		if n := db.asn.len() + db.country.len(); maxRanges > 0 && n > maxRanges {
			return fmt.Errorf("more than %d ranges (max_ranges)", maxRanges)
		}
		return nil
	}
	for _, f := range files.ASN {
		if err := loadFile(f, 2, func(r row) error { return db.addASN(r, budget) }); err != nil {
			return nil, err
		}
	}
	codes := map[string]uint32{}
	for _, f := range files.Country {
		if err := loadFile(f, 1, func(r row) error { return db.addCountry(r, codes, budget) }); err != nil {
			return nil, err
		}
	}
	db.asn.finish()
	db.country.finish()
	return db, nil
}

func loadFile(path string, minFields int, fn func(row) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("ipdb: %w", err)
	}
	defer f.Close()
	if err := parseRows(f, minFields, fn); err != nil {
		return fmt.Errorf("ipdb: %s: %w", path, err)
	}
	return nil
}

func (db *DB) addASN(r row, budget func() error) error {
	asn, err := parseASN(r.fields[0])
	if err != nil {
		return err
	}
	if asn == 0 {
		return nil // "not routed": no better than no range
	}
	i, ok := db.index[asn]
	if !ok {
		// Clone: the field shares the memory of its whole CSV line.
		name := strings.Clone(strings.TrimSpace(r.fields[1]))
		i = uint32(len(db.entries))
		db.index[asn] = i
		db.entries = append(db.entries, asEntry{asn, name})
		db.nameBytes += len(name)
	}
	db.asn.addRange(r, i)
	return budget()
}

func (db *DB) addCountry(r row, codes map[string]uint32, budget func() error) error {
	cc, err := parseCountry(r.fields[0])
	if err != nil {
		return err
	}
	i, ok := codes[cc]
	if !ok {
		i = uint32(len(db.countries))
		codes[cc] = i
		db.countries = append(db.countries, cc)
	}
	db.country.addRange(r, i)
	return budget()
}

// Lookup returns what the databases say about a 16-byte address (IPv4
// as IPv4-mapped). A nil DB knows nothing.
func (db *DB) Lookup(ip [16]byte) Info {
	var info Info
	if db == nil {
		return info
	}
	if i, ok := db.asn.find(ip); ok {
		e := &db.entries[i]
		info.ASN, info.ASName = e.asn, e.name
	}
	if i, ok := db.country.find(ip); ok {
		info.Country = db.countries[i]
	}
	return info
}

// ASName is the name of an AS number the databases know, for AS numbers
// an exporter sent.
func (db *DB) ASName(asn uint32) string {
	if db == nil {
		return ""
	}
	if i, ok := db.index[asn]; ok {
		return db.entries[i].name
	}
	return ""
}

// Stats are the size of a loaded DB.
type Stats struct {
	Ranges int // AS and country ranges
	ASNs   int // distinct AS numbers with a name
	// Bytes estimates the memory held: the ranges, the names, their
	// entries and index (about 24 + 40 bytes an AS beside the text).
	Bytes int
}

func (db *DB) Stats() Stats {
	if db == nil {
		return Stats{}
	}
	return Stats{
		Ranges: db.asn.len() + db.country.len(),
		ASNs:   len(db.entries),
		Bytes:  db.asn.bytes() + db.country.bytes() + db.nameBytes + 64*len(db.entries),
	}
}
