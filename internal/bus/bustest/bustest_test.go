package bustest

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/record"
)

var _ bus.Publisher = (*Publisher)(nil)

func TestPublisherKeepsDecodesAndForgets(t *testing.T) {
	p := &Publisher{}
	for _, name := range []string{"eth0", "eth1"} {
		b, _ := proto.Marshal(&record.InterfaceStats{IfName: name})
		p.Publish(record.TopicIfStats, []byte("sw1"), b)
	}
	p.Publish(record.TopicPods, []byte("node"), nil)
	if n := p.Count("sw1"); n != 2 {
		t.Errorf("count sw1 = %d, want 2", n)
	}
	recs := Decode[record.InterfaceStats](p.Take(), record.TopicIfStats)
	if len(recs) != 2 || recs[1].IfName != "eth1" {
		t.Errorf("decoded %v", recs)
	}
	if len(p.Messages()) != 0 {
		t.Error("Take kept the messages")
	}
}
