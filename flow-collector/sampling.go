package flowcollector

import (
	"net/netip"
	"sort"
)

// samplingOverrides resolves configured sampling rates: the longest
// matching prefix wins, an exact exporter address being the longest.
type samplingOverrides struct {
	entries []samplingEntry // most specific first
}

type samplingEntry struct {
	prefix netip.Prefix
	rate   uint64
}

func newSamplingOverrides(cfg []SamplingOverride) (*samplingOverrides, error) {
	s := &samplingOverrides{}
	for _, o := range cfg {
		p, err := parseExporterPrefix(o.Exporter)
		if err != nil {
			return nil, err
		}
		s.entries = append(s.entries, samplingEntry{p, o.Rate})
	}
	sort.SliceStable(s.entries, func(i, j int) bool {
		return s.entries[i].prefix.Bits() > s.entries[j].prefix.Bits()
	})
	return s, nil
}

// override returns the configured rate for an exporter, 0 when none.
func (s *samplingOverrides) override(a netip.Addr) uint64 {
	a = a.Unmap()
	for _, e := range s.entries {
		if e.prefix.Contains(a) {
			return e.rate
		}
	}
	return 0
}
