package npmagent

import (
	"io"
	"net"
	"os"
	"testing"

	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/testenv"
)

// TestAgentAdoptsSocketsOpenedBeforeIt: a connection made before the
// agent started gets its owner and direction from the task_file walk, and
// only the bytes after the start.
func TestAgentAdoptsSocketsOpenedBeforeIt(t *testing.T) {
	eachStrategy(t, testAdoptsSocketsOpenedBeforeIt)
}

func testAdoptsSocketsOpenedBeforeIt(t *testing.T, strategy string) {
	testenv.Root(t)
	p := newPair(t)
	var ln net.Listener
	var cli net.Conn
	err := inNetns(p.a, func() (err error) {
		if ln, err = net.Listen("tcp", "127.0.0.1:7003"); err != nil {
			return err
		}
		cli, err = net.Dial("tcp", "127.0.0.1:7003")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	defer cli.Close()
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if _, err := cli.Write(make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(srv, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	cliCookie, _ := socketCookie(cli)
	srvCookie, _ := socketCookie(srv)

	agent, pub := startAgent(t, strategy)
	if _, err := cli.Write(make([]byte, 500)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(srv, make([]byte, 500)); err != nil {
		t.Fatal(err)
	}
	var c, s *record.SocketStats
	waitFor(t, agent, "records of both ends", func() bool {
		for _, r := range sockets(pub) {
			switch r.SocketId {
			case cliCookie:
				c = r
			case srvCookie:
				s = r
			}
		}
		return c != nil && s != nil
	})
	if c.Pid != uint32(os.Getpid()) || c.Comm != selfComm(t) || c.Direction != record.SocketDirection_SOCKET_DIRECTION_CLIENT {
		t.Errorf("client end: pid %d comm %q direction %v", c.Pid, c.Comm, c.Direction)
	}
	if s.Pid != uint32(os.Getpid()) || s.Direction != record.SocketDirection_SOCKET_DIRECTION_SERVER {
		t.Errorf("server end: pid %d direction %v", s.Pid, s.Direction)
	}
	if c.BytesSent != 500 || s.BytesReceived != 500 {
		t.Errorf("bytes after start: client sent %d, server received %d, want 500", c.BytesSent, s.BytesReceived)
	}
	if c.ConnectLatencyUs != 0 {
		t.Errorf("connect latency %d for a connection made before the agent", c.ConnectLatencyUs)
	}
}
