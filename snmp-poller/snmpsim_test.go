package snmppoller

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/netstrata/netstrata/internal/testenv"
)

// snmpsim is snmpsimd (Debian's snmpsim) serving recordings the tests
// write, one per community, on a loopback port. Its variation module
// "numeric" makes counters rise at exact rates, so a test knows the truth.
type snmpsim struct {
	port uint16
}

// startSnmpsim serves recordings (community, and SNMPv3 context name, →
// .snmprec text) and stops at cleanup; args are more snmpsimd options.
func startSnmpsim(t *testing.T, recordings map[string]string, args ...string) *snmpsim {
	t.Helper()
	bin := testenv.Command(t, "snmpsimd")
	dir := snmpsimDir(t, recordings)
	var lastErr error
	for range 3 { // the free port we picked may be taken before snmpsimd binds it
		s, err := trySnmpsim(t, bin, dir, firstKey(recordings), args)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("snmpsimd did not start: %v", lastErr)
	return nil
}

func firstKey(m map[string]string) string {
	for k := range m {
		return k
	}
	return ""
}

// snmpsimDir writes the recordings where snmpsimd can read them: as root
// it must drop to nobody, which cannot enter a test's private temp dir.
func snmpsimDir(t testing.TB, recordings map[string]string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "netstrata-snmpsim-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	for _, d := range []string{dir, data, filepath.Join(dir, "cache")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for community, text := range recordings {
		if err := os.WriteFile(filepath.Join(data, community+".snmprec"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if os.Geteuid() == 0 {
		if err := chownNobody(filepath.Join(dir, "cache")); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func chownNobody(path string) error {
	u, err := user.Lookup("nobody")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(path, uid, gid)
}

func trySnmpsim(t *testing.T, bin, dir, community string, extra []string) (*snmpsim, error) {
	port, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	args := append([]string{"--data-dir=" + filepath.Join(dir, "data"), "--cache-dir=" + filepath.Join(dir, "cache"),
		fmt.Sprintf("--agent-udpv4-endpoint=127.0.0.1:%d", port), "--logging-method=stderr"}, extra...)
	args = append(args, snmpsimUser(t)...)
	s := &snmpsim{port: port}
	// Ready when it answers (it indexes the recordings first).
	err = runPeer(t, exec.Command(bin, args...), 60*time.Second, func() error { return s.ping(community) })
	if err != nil {
		return nil, fmt.Errorf("port %d: %w", port, err)
	}
	return s, nil
}

func groupOfNobody() string {
	u, err := user.Lookup("nobody")
	if err != nil {
		return "65534"
	}
	return u.Gid
}

func (s *snmpsim) ping(community string) error { return s.pingAt("127.0.0.1", community) }

// pingAt asks the agent at address for sysUpTime.
func (s *snmpsim) pingAt(address, community string) error {
	g := &gosnmp.GoSNMP{Target: address, Port: s.port, Community: community,
		Version: gosnmp.Version2c, Timeout: 500 * time.Millisecond, Retries: 0}
	if err := g.Connect(); err != nil {
		return err
	}
	defer g.Close()
	_, err := g.Get([]string{oidSysUpTime})
	return err
}

// target is a v2c target for one recording of s.
func (s *snmpsim) target(name, community string) Target {
	return Target{Name: name, Address: "127.0.0.1", Port: s.port, Version: "2c", Community: community}
}

// snmpsimV3 makes snmpsimd accept SNMPv3 user u (SHA, AES); the context
// name picks the recording.
func snmpsimV3(u V3Credentials) []string {
	return []string{"--v3-user=" + u.User, "--v3-auth-proto=SHA", "--v3-auth-key=" + u.AuthPassword,
		"--v3-priv-proto=AES", "--v3-priv-key=" + u.PrivPassword}
}

// v3Target is an SNMPv3 target for the recording named context, with
// the default name.
func (s *snmpsim) v3Target(u V3Credentials, context string) Target {
	u.ContextName = context
	return Target{Address: "127.0.0.1", Port: s.port, Version: "3", V3: &u}
}
