package npmagent

import (
	"fmt"
	"io"
	"net"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// socketCookie is the kernel's id of c, as the agent reports it.
func socketCookie(c net.Conn) (uint64, error) {
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return 0, err
	}
	var cookie uint64
	var gerr error
	if err := rc.Control(func(fd uintptr) { cookie, gerr = unix.GetsockoptUint64(int(fd), unix.SOL_SOCKET, unix.SO_COOKIE) }); err != nil {
		return 0, err
	}
	return cookie, gerr
}

// TestAgentSeesEveryShortConnection opens and closes 10k connections in a
// namespace: each end must be reported closed with its bytes, and nothing
// may stay tracked afterwards. Sockets are told apart by cookie: loopback
// reuses TIME_WAIT ports.
func TestAgentSeesEveryShortConnection(t *testing.T) { eachStrategy(t, testSeesEveryShortConnection) }

func testSeesEveryShortConnection(t *testing.T, strategy string) {
	agent, pub := startAgent(t, strategy)
	p := newPair(t)
	const conns, workers, payload = 10000, 4, 100

	var ln net.Listener
	if err := inNetns(p.a, func() (err error) { ln, err = net.Listen("tcp", "127.0.0.1:7002"); return err }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	serverCookies := make(chan uint64, conns)
	var srv sync.WaitGroup
	accepted := make(chan struct{}) // every connection accepted: srv.Add is done
	go func() {
		defer close(accepted)
		for range conns {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			srv.Add(1)
			go func() {
				defer srv.Done()
				if k, err := socketCookie(c); err == nil {
					serverCookies <- k
				}
				_, _ = io.Copy(io.Discard, c)
				c.Close()
			}()
		}
	}()

	clientCookies := make(chan uint64, conns)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- inNetns(p.a, func() error {
				msg := make([]byte, payload)
				for i := w; i < conns; i += workers {
					c, err := net.Dial("tcp", "127.0.0.1:7002")
					if err != nil {
						return fmt.Errorf("dial %d: %w", i, err)
					}
					k, err := socketCookie(c)
					if err != nil {
						return err
					}
					clientCookies <- k
					if _, err := c.Write(msg); err != nil {
						return err
					}
					c.Close()
				}
				return nil
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	<-accepted
	srv.Wait()
	close(clientCookies)
	close(serverCookies)

	type want struct {
		sent, received uint64
		closed         bool
	}
	ends := map[uint64]*want{}
	for k := range clientCookies {
		ends[k] = &want{}
	}
	for k := range serverCookies {
		ends[k] = &want{}
	}
	if len(ends) != 2*conns {
		t.Fatalf("%d socket cookies for %d connections", len(ends), conns)
	}
	count := func() int {
		for _, w := range ends {
			*w = want{}
		}
		closed := 0
		for _, r := range sockets(pub) {
			if w := ends[r.SocketId]; w != nil {
				w.sent += r.BytesSent
				w.received += r.BytesReceived
				if r.CloseTimeNs != 0 {
					w.closed = true
					closed++
				}
			}
		}
		return closed
	}
	polls := 0
	waitFor(t, agent, "a close record for every socket", func() bool {
		closed := count()
		if polls++; closed < 2*conns && polls%40 == 0 {
			k, _ := agent.k.counters()
			t.Logf("%d of %d closes; kernel counters %v", closed, 2*conns, k)
		}
		return closed >= 2*conns
	})
	clientSeen, wrong := 0, 0
	for k, w := range ends {
		if w.sent == payload && w.received == 0 {
			clientSeen++
		} else if !(w.sent == 0 && w.received == payload) {
			wrong++
			if wrong < 5 {
				t.Errorf("socket %d: %+v, want %d bytes one way", k, w, payload)
			}
		}
	}
	if clientSeen != conns || wrong != 0 {
		t.Errorf("%d client ends with the right bytes, %d wrong, want %d and 0", clientSeen, wrong, conns)
	}

	// Nothing of the namespace stays tracked, in the kernel or here, and
	// the memory of recent closes drains.
	for range 3 {
		agent.collect(true)
	}
	agent.mu.Lock()
	defer agent.mu.Unlock()
	for _, st := range agent.tr.socks {
		if uint64(st.last.Netns) == p.netnsInode {
			t.Errorf("socket %d still tracked after close", st.last.Cookie)
		}
	}
	if n := len(agent.tr.recentlyClosed); n >= conns {
		t.Errorf("%d recently closed cookies remembered", n)
	}
}
