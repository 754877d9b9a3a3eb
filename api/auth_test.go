package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testToken = "s3cret-token-0123456789"

func TestConfigurationRefusesOpenAPIOffLoopback(t *testing.T) {
	cfg := DefaultConfiguration()
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "api.tokens") {
		t.Errorf("no tokens, auth on: %v", err)
	}
	cfg.AuthDisabled = true
	if err := cfg.Validate(); err != nil {
		t.Errorf("auth disabled on loopback: %v", err)
	}
	cfg.Listen = "0.0.0.0:8080"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "api.auth_disabled") {
		t.Errorf("auth disabled on 0.0.0.0: %v", err)
	}
	cfg.AuthDisabled, cfg.Tokens = false, []string{"short"}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "api.tokens[0]") {
		t.Errorf("short token: %v", err)
	}
	cfg.Tokens, cfg.TLSCert = []string{testToken}, "/x.pem"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "api.tls_key") {
		t.Errorf("cert without key: %v", err)
	}
}

func TestBearerTokenGuardsDataAndDatabaseOutageIs503(t *testing.T) {
	cfg := testConfig()
	cfg.AuthDisabled, cfg.Tokens = false, []string{testToken}
	c := offlineAPI(t, cfg)
	base := "http://" + c.Addr()
	call := func(path, token string) (int, ErrorResponse) {
		req, _ := http.NewRequest("GET", base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e ErrorResponse
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e
	}
	for _, path := range []string{"/api/v1/interfaces", "/api/v1/investigate?node=a", "/metrics"} {
		if st, _ := call(path, ""); st != 401 {
			t.Errorf("%s without token: %d", path, st)
		}
		if st, _ := call(path, "wrong-token-wrong-token"); st != 401 {
			t.Errorf("%s with a wrong token: %d", path, st)
		}
	}
	if st, _ := call("/openapi.json", ""); st != 200 {
		t.Errorf("openapi is public: %d", st)
	}
	// The database is down: data requests say so, /healthz too.
	st, e := call("/api/v1/interfaces", testToken)
	if st != 503 || !strings.Contains(e.Error.Message, "database unavailable") {
		t.Errorf("database down: %d %+v", st, e)
	}
	if st, _ := call("/api/v1/flows/topn?by=nope", testToken); st != 400 {
		t.Errorf("parameters are checked before the database: %d", st)
	}
	if st, _ := call("/metrics", testToken); st != 200 {
		t.Errorf("metrics with token: %d", st)
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Status string
		Checks []struct{ Name, Status string }
	}
	_ = json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if resp.StatusCode != 503 || len(h.Checks) == 0 || h.Checks[0].Name != "api/clickhouse" || h.Checks[0].Status != "failing" {
		t.Errorf("healthz: %d %+v", resp.StatusCode, h)
	}
	// The database's address and user are for authenticated callers only.
	if st, _ := call("/api/v1/health", ""); st != 401 {
		t.Errorf("detailed health without a token: %d", st)
	}
	resp, err = http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	public, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	req, _ := http.NewRequest("GET", base+"/api/v1/health", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	detailed, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(public), "127.0.0.1:1") || !strings.Contains(string(detailed), "127.0.0.1:1") {
		t.Errorf("public /healthz %s\ndetailed /api/v1/health %s", public, detailed)
	}
}

func TestServesHTTPSWithConfiguredCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	cfg := testConfig()
	cfg.TLSCert, cfg.TLSKey = certFile, keyFile
	c := offlineAPI(t, cfg)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get("https://" + c.Addr() + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Errorf("https: %d", resp.StatusCode)
	}
	if resp, err := http.Get("http://" + c.Addr() + "/openapi.json"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP answered on the TLS listener")
		}
	}
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "netstrata-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
