package snmppoller

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/netstrata/netstrata/internal/testenv"
)

// snmpd is a Debian net-snmp agent started for one test on a loopback
// port, with a v2c community and SNMPv3 users of several protocols.
type snmpd struct {
	port      uint16
	community string
}

// snmpdUser is an SNMPv3 user the test agent knows.
type snmpdUser struct {
	V3 V3Credentials
	// net-snmp spellings of the protocols for createUser.
	netsnmpAuth, netsnmpPriv string
}

const snmpdCommunity = "netstrata-ro"

var snmpdUsers = []snmpdUser{
	{V3: V3Credentials{User: "ns-sha256-aes", AuthProtocol: "sha256", AuthPassword: "auth-pass-1", PrivProtocol: "aes", PrivPassword: "priv-pass-1"}, netsnmpAuth: "SHA-256", netsnmpPriv: "AES"},
	{V3: V3Credentials{User: "ns-sha512-aes256", AuthProtocol: "sha512", AuthPassword: "auth-pass-2", PrivProtocol: "aes256", PrivPassword: "priv-pass-2"}, netsnmpAuth: "SHA-512", netsnmpPriv: "AES-256"},
	{V3: V3Credentials{User: "ns-md5-des", AuthProtocol: "md5", AuthPassword: "auth-pass-3", PrivProtocol: "des", PrivPassword: "priv-pass-3"}, netsnmpAuth: "MD5", netsnmpPriv: "DES"},
	{V3: V3Credentials{User: "ns-sha-auth", AuthProtocol: "sha", AuthPassword: "auth-pass-4"}, netsnmpAuth: "SHA"},
	{V3: V3Credentials{User: "ns-noauth"}},
}

// startSnmpd runs snmpd in the foreground (-f) with only our config (-C
// -c), logging to a buffer shown when the test fails, and stops it at
// cleanup. It sets the IF-MIB cache timeout to 0: net-snmp caches its
// interface table for 3 s by default, which skews counters read right
// after traffic.
func startSnmpd(t *testing.T) *snmpd {
	t.Helper()
	bin := testenv.Command(t, "snmpd")
	var lastErr error
	for range 3 { // the free port we picked may be taken before snmpd binds it
		s, err := trySnmpd(t, bin)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("snmpd did not start: %v", lastErr)
	return nil
}

func trySnmpd(t *testing.T, bin string) (*snmpd, error) {
	port, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	persist := filepath.Join(dir, "persist")
	if err := os.Mkdir(persist, 0o700); err != nil {
		return nil, err
	}
	var conf bytes.Buffer
	fmt.Fprintf(&conf, "agentaddress udp:127.0.0.1:%d\n", port)
	fmt.Fprintf(&conf, "dontLogTCPWrappersConnects yes\nrocommunity %s 127.0.0.1\n", snmpdCommunity)
	// Write access to NET-SNMP-AGENT-MIB::nsCacheTable only, to turn the
	// interface cache off.
	fmt.Fprintf(&conf, "rwcommunity %s-rw 127.0.0.1 .1.3.6.1.4.1.8072.1.5\n", snmpdCommunity)
	for _, u := range snmpdUsers {
		switch {
		case u.netsnmpPriv != "":
			fmt.Fprintf(&conf, "createUser %s %s %s %s %s\nrouser %s priv\n", u.V3.User, u.netsnmpAuth, u.V3.AuthPassword, u.netsnmpPriv, u.V3.PrivPassword, u.V3.User)
		case u.netsnmpAuth != "":
			fmt.Fprintf(&conf, "createUser %s %s %s\nrouser %s auth\n", u.V3.User, u.netsnmpAuth, u.V3.AuthPassword, u.V3.User)
		default:
			fmt.Fprintf(&conf, "createUser %s\nrouser %s noauth\n", u.V3.User, u.V3.User)
		}
	}
	confPath := filepath.Join(dir, "snmpd.conf")
	if err := os.WriteFile(confPath, conf.Bytes(), 0o600); err != nil {
		return nil, err
	}
	s := &snmpd{port: port, community: snmpdCommunity}
	cmd := exec.Command(bin, "-f", "-Lo", "-C", "-c", confPath, "-p", filepath.Join(dir, "snmpd.pid"))
	// MIBS= keeps snmpd from parsing MIB files Debian does not ship.
	cmd.Env = append(os.Environ(), "SNMP_PERSISTENT_DIR="+persist, "MIBS=")
	// Ready when it answers; then turn the ifTable cache off.
	if err := runPeer(t, cmd, 15*time.Second, func() error { return s.setIfCacheTimeout(0) }); err != nil {
		return nil, fmt.Errorf("port %d: %w", port, err)
	}
	return s, nil
}

// setIfCacheTimeout sets nsCacheTimeout for ifTable (whose cache ifXTable
// shares); the table is indexed by the cached table's OID.
func (s *snmpd) setIfCacheTimeout(seconds int) error {
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: s.port, Community: snmpdCommunity + "-rw",
		Version: gosnmp.Version2c, Timeout: 300 * time.Millisecond, Retries: 0}
	if err := g.Connect(); err != nil {
		return err
	}
	defer g.Close()
	res, err := g.Set([]gosnmp.SnmpPDU{{Name: ".1.3.6.1.4.1.8072.1.5.3.1.2.1.3.6.1.2.1.2.2", Type: gosnmp.Integer, Value: seconds}})
	if err != nil {
		return err
	}
	if res.Error != gosnmp.NoError {
		return fmt.Errorf("set nsCacheTimeout: %s", res.Error)
	}
	return nil
}

func (s *snmpd) v2cTarget(name string) Target {
	return Target{Name: name, Address: "127.0.0.1", Port: s.port, Version: "2c", Community: s.community}
}

func (s *snmpd) v3Target(name string, u snmpdUser) Target {
	v3 := u.V3
	return Target{Name: name, Address: "127.0.0.1", Port: s.port, Version: "3", V3: &v3}
}

func freeUDPPort() (uint16, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port), nil
}
