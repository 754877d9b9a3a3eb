package snmppoller

import (
	"context"
	"fmt"
	"strings"

	"github.com/gosnmp/gosnmp"
)

// session opens one gosnmp connection for one poll. A fresh connection per
// poll keeps only the polls in flight holding gosnmp's 64 KiB receive
// buffer, instead of every target of the fleet; SNMPv3 engine discovery
// and localized keys are carried from poll to poll in usm so that only the
// first poll pays for them.
type session struct {
	usm             gosnmp.SnmpV3SecurityParameters
	contextEngineID string
}

func authProtocol(s string) (gosnmp.SnmpV3AuthProtocol, error) {
	switch strings.ToLower(strings.ReplaceAll(s, "-", "")) {
	case "":
		return gosnmp.NoAuth, nil
	case "md5":
		return gosnmp.MD5, nil
	case "sha", "sha1":
		return gosnmp.SHA, nil
	case "sha224":
		return gosnmp.SHA224, nil
	case "sha256":
		return gosnmp.SHA256, nil
	case "sha384":
		return gosnmp.SHA384, nil
	case "sha512":
		return gosnmp.SHA512, nil
	}
	return 0, fmt.Errorf("%q is not md5, sha, sha224, sha256, sha384 or sha512", s)
}

func privProtocol(s string) (gosnmp.SnmpV3PrivProtocol, error) {
	switch strings.ToLower(strings.ReplaceAll(s, "-", "")) {
	case "":
		return gosnmp.NoPriv, nil
	case "des":
		return gosnmp.DES, nil
	case "aes", "aes128":
		return gosnmp.AES, nil
	case "aes192":
		return gosnmp.AES192, nil
	case "aes256":
		return gosnmp.AES256, nil
	case "aes192c":
		return gosnmp.AES192C, nil
	case "aes256c":
		return gosnmp.AES256C, nil
	}
	return 0, fmt.Errorf("%q is not des, aes, aes192, aes256, aes192c or aes256c", s)
}

// connect builds and connects a gosnmp client for t; ctx bounds the whole
// poll.
func (s *session) connect(ctx context.Context, t *resolvedTarget) (*gosnmp.GoSNMP, error) {
	g := &gosnmp.GoSNMP{
		Target:    t.Address,
		Port:      t.Port,
		Transport: "udp",
		Context:   ctx,
		Timeout:   t.Timeout,
		Retries:   t.Retries,
		MaxOids:   gosnmp.MaxOids,
	}
	switch t.Version {
	case "1":
		g.Version = gosnmp.Version1
		g.Community = t.Community
	case "2c":
		g.Version = gosnmp.Version2c
		g.Community = t.Community
	case "3":
		g.Version = gosnmp.Version3
		g.SecurityModel = gosnmp.UserSecurityModel
		g.ContextName = t.V3.ContextName
		auth, _ := authProtocol(t.V3.AuthProtocol) // validated with the configuration
		priv, _ := privProtocol(t.V3.PrivProtocol)
		switch {
		case priv != gosnmp.NoPriv:
			g.MsgFlags = gosnmp.AuthPriv
		case auth != gosnmp.NoAuth:
			g.MsgFlags = gosnmp.AuthNoPriv
		default:
			g.MsgFlags = gosnmp.NoAuthNoPriv
		}
		if s.usm != nil {
			g.SecurityParameters = s.usm.Copy()
			g.ContextEngineID = s.contextEngineID
		} else {
			g.SecurityParameters = &gosnmp.UsmSecurityParameters{
				UserName:                 t.V3.User,
				AuthenticationProtocol:   auth,
				AuthenticationPassphrase: t.V3.AuthPassword,
				PrivacyProtocol:          priv,
				PrivacyPassphrase:        t.V3.PrivPassword,
			}
		}
	}
	if err := g.Connect(); err != nil {
		return nil, err
	}
	return g, nil
}

// keep remembers what an SNMPv3 exchange learnt (engine ID, boots, time,
// keys) for the next poll; forget drops it after a failure so that a
// replaced or re-keyed device is discovered afresh.
func (s *session) keep(g *gosnmp.GoSNMP) {
	if g.Version != gosnmp.Version3 || g.SecurityParameters == nil {
		return
	}
	usp, ok := g.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	if !ok || usp.AuthoritativeEngineID == "" {
		return
	}
	s.usm = usp.Copy()
	s.contextEngineID = g.ContextEngineID
}

func (s *session) forget() {
	s.usm = nil
	s.contextEngineID = ""
}
