package correlator

import "sync"

// ifKey names one interface of one device by the device's address, as
// flows name their exporter.
type ifKey struct {
	ip    [16]byte
	index uint32
}

// ifInfo is what a flow borrows from the latest SNMP poll of an interface.
type ifInfo struct {
	device string
	name   string
	alias  string
	speed  uint64
	timeMs int64
}

// interfaceCache holds the latest SNMP names per (device address,
// ifIndex) and the device name per address. Newer polls win; the size is
// bounded, new interfaces beyond it are not cached (and counted).
type interfaceCache struct {
	mu      sync.RWMutex
	ifs     map[ifKey]ifInfo
	devices map[[16]byte]string
	max     int
}

func newInterfaceCache(max int) *interfaceCache {
	return &interfaceCache{ifs: map[ifKey]ifInfo{}, devices: map[[16]byte]string{}, max: max}
}

// update records one poll; it reports false when the cache is full.
func (c *interfaceCache) update(ip [16]byte, index uint32, info ifInfo) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := ifKey{ip, index}
	old, ok := c.ifs[k]
	if ok && old.timeMs > info.timeMs {
		return true
	}
	if !ok && len(c.ifs) >= c.max {
		return false
	}
	c.ifs[k] = info
	if info.device != "" {
		c.devices[ip] = info.device
	}
	return true
}

// interfaceView is a read-locked view for the enrichment of one batch.
type interfaceView struct{ c *interfaceCache }

func (c *interfaceCache) view() interfaceView { c.mu.RLock(); return interfaceView{c} }
func (v interfaceView) release()              { v.c.mu.RUnlock() }

func (v interfaceView) lookup(ip [16]byte, index uint32) (ifInfo, bool) {
	info, ok := v.c.ifs[ifKey{ip, index}]
	return info, ok
}

func (v interfaceView) device(ip [16]byte) string { return v.c.devices[ip] }

func (c *interfaceCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.ifs)
}
