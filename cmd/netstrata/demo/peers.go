package demo

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gosnmp/gosnmp"
)

// SNMPCommunity is the read community of the lab's snmpd.
const SNMPCommunity = "netstrata-demo"

// SNMPD is net-snmp's agent on a loopback port: it serves the host's
// IF-MIB, where the lab's veths are interfaces.
type SNMPD struct {
	*Process
	Port int
}

// StartSNMPD runs snmpd in the foreground with only our configuration and
// turns its interface-table cache off (nsCacheTimeout 0), so each poll
// reads the kernel's counters of that moment.
func StartSNMPD(dir string, port int) (*SNMPD, error) {
	persist := filepath.Join(dir, "snmp-persist")
	if err := os.MkdirAll(persist, 0o700); err != nil {
		return nil, fmt.Errorf("snmpd dir: %w", err)
	}
	var conf bytes.Buffer
	fmt.Fprintf(&conf, "agentaddress udp:127.0.0.1:%d\n", port)
	fmt.Fprintf(&conf, "dontLogTCPWrappersConnects yes\nrocommunity %s 127.0.0.1\n", SNMPCommunity)
	// Write access to NET-SNMP-AGENT-MIB::nsCacheTable only.
	fmt.Fprintf(&conf, "rwcommunity %s-rw 127.0.0.1 .1.3.6.1.4.1.8072.1.5\n", SNMPCommunity)
	confPath := filepath.Join(dir, "snmpd.conf")
	if err := os.WriteFile(confPath, conf.Bytes(), 0o600); err != nil {
		return nil, fmt.Errorf("snmpd config: %w", err)
	}
	p, err := StartProcess("snmpd", []string{"snmpd", "-f", "-Lo", "-C", "-c", confPath, "-p", filepath.Join(dir, "snmpd.pid")},
		// MIBS= keeps snmpd from parsing MIB files Debian does not ship.
		[]string{"SNMP_PERSISTENT_DIR=" + persist, "MIBS="}, nil)
	if err != nil {
		return nil, err
	}
	s := &SNMPD{Process: p, Port: port}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if ok, _ := p.Exited(); ok {
			return nil, fmt.Errorf("snmpd exited: %s", p.Output())
		}
		err := s.setIfCacheTimeout(0)
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			p.Kill()
			return nil, fmt.Errorf("snmpd on 127.0.0.1:%d not answering: %w", port, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// setIfCacheTimeout sets nsCacheTimeout of ifTable (ifXTable shares its
// cache); nsCacheTable is indexed by the cached table's OID.
func (s *SNMPD) setIfCacheTimeout(seconds int) error {
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(s.Port), Community: SNMPCommunity + "-rw",
		Version: gosnmp.Version2c, Timeout: 300 * time.Millisecond, Retries: 0}
	if err := g.Connect(); err != nil {
		return err
	}
	defer g.Conn.Close()
	res, err := g.Set([]gosnmp.SnmpPDU{{Name: ".1.3.6.1.4.1.8072.1.5.3.1.2.1.3.6.1.2.1.2.2", Type: gosnmp.Integer, Value: seconds}})
	if err != nil {
		return err
	}
	if res.Error != gosnmp.NoError {
		return fmt.Errorf("set nsCacheTimeout: %s", res.Error)
	}
	return nil
}

// Softflowd is softflowd capturing on one interface and exporting NetFlow
// v9 to the collector.
type Softflowd struct {
	*Process
	IfIndex int
}

// StartSoftflowd captures on iface (announcing ifIndex in the flows, so
// they join IF-MIB's interface) and exports to collector every few
// seconds: active flows are cut every maxlife, and expiry runs every 2 s.
// Stop (SIGTERM) exports every flow still open.
func StartSoftflowd(dir, iface string, ifIndex int, collector string, maxlife time.Duration) (*Softflowd, error) {
	argv := []string{"softflowd", "-d", "-N", "-v", "9", "-B", strconv.Itoa(16 << 20),
		"-i", strconv.Itoa(ifIndex) + ":" + iface,
		"-n", collector,
		"-p", filepath.Join(dir, "softflowd.pid"), "-c", filepath.Join(dir, "softflowd.ctl"),
		"-t", "maxlife=" + strconv.Itoa(int(maxlife.Seconds())), "-t", "expint=2",
		"-t", "tcp=30", "-t", "tcp.fin=1", "-t", "tcp.rst=1", "-t", "general=30",
	}
	p, err := StartProcess("softflowd", argv, nil, nil)
	if err != nil {
		return nil, err
	}
	// Capture starts within a moment; give it that moment and make sure
	// it did not refuse the interface.
	time.Sleep(500 * time.Millisecond)
	if ok, _ := p.Exited(); ok {
		return nil, fmt.Errorf("softflowd exited: %s", p.Output())
	}
	return &Softflowd{Process: p, IfIndex: ifIndex}, nil
}
