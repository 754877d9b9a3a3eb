package snmppoller

import (
	"encoding/hex"
	"time"

	"github.com/gosnmp/gosnmp"
)

// readSystem reads what a poll learns about the device as a whole:
// sysUpTime (and when it arrived), sysName and the SNMP engine ID. The
// engine ID is for display: the device is its configured target.
func (d *device) readSystem(g *gosnmp.GoSNMP) error {
	oids := []string{oidSysUpTime, oidSysName}
	if g.Version != gosnmp.Version1 {
		// An SNMPv1 agent without the object would fail the whole GET
		// (noSuchName); v2c and v3 answer noSuchObject for that varbind.
		oids = append(oids, oidEngineID)
	}
	err := d.getSystem(g, oids)
	if err == nil && !d.hasUptime && len(oids) > 2 {
		// Some v2c agents still fail a whole GET for an object they lack,
		// as v1 did (an error status, or nothing but NULLs): ask again
		// without the engine ID.
		err = d.getSystem(g, oids[:2])
	}
	if d.engineID == "" {
		d.engineID = usmEngineID(g)
	}
	return err
}

// getSystem reads oids of the system group into d.
func (d *device) getSystem(g *gosnmp.GoSNMP, oids []string) error {
	sys, err := g.Get(oids)
	if err != nil {
		return err
	}
	d.uptimeAt = time.Now()
	for _, vb := range sys.Variables {
		switch vb.Name {
		case oidSysUpTime:
			if v, ok := gaugeValue(vb); ok && vb.Type == gosnmp.TimeTicks {
				d.uptime, d.hasUptime = uint32(v), true
			}
		case oidSysName:
			d.sysName, _ = textValue(vb)
		case oidEngineID:
			if b, ok := vb.Value.([]byte); ok && vb.Type == gosnmp.OctetString {
				d.engineID = engineIDHex(b)
			}
		}
	}
	return nil
}

// usmEngineID is the authoritative engine ID an SNMPv3 exchange
// discovered, for agents that do not serve snmpEngineID in their view.
func usmEngineID(g *gosnmp.GoSNMP) string {
	if usp, ok := g.SecurityParameters.(*gosnmp.UsmSecurityParameters); ok && g.Version == gosnmp.Version3 {
		return engineIDHex([]byte(usp.AuthoritativeEngineID))
	}
	return ""
}

// engineIDHex shows an engine ID as hex, bounded to its 32 octets.
func engineIDHex(b []byte) string {
	return hex.EncodeToString(b[:min(len(b), maxEngineID)])
}
