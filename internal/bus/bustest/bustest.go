// Package bustest is the fake bus.Publisher of tests: it keeps every
// message published, in order, and decodes them on request.
package bustest

import (
	"bytes"
	"sync"

	"google.golang.org/protobuf/proto"
)

// Message is one published record, as the producer would send it.
type Message struct {
	Topic string
	Key   []byte
	Value []byte
}

// Publisher implements bus.Publisher in memory. Safe for concurrent use.
type Publisher struct {
	mu   sync.Mutex
	msgs []Message
}

// Publish keeps a copy of the message.
func (p *Publisher) Publish(topic string, key, value []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, Message{Topic: topic, Key: bytes.Clone(key), Value: bytes.Clone(value)})
}

// Messages are the messages kept so far.
func (p *Publisher) Messages() []Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Message(nil), p.msgs...)
}

// Take returns the messages kept so far and forgets them.
func (p *Publisher) Take() []Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.msgs
	p.msgs = nil
	return out
}

// Count is how many messages were published with this key.
func (p *Publisher) Count(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, m := range p.msgs {
		if string(m.Key) == key {
			n++
		}
	}
	return n
}

// Decode unmarshals the messages of topic (all of them when topic is "")
// into records of type T; a value that does not decode is an error of
// the code under test, and panics.
func Decode[T any, PT interface {
	*T
	proto.Message
}](msgs []Message, topic string) []PT {
	var out []PT
	for _, m := range msgs {
		if topic != "" && m.Topic != topic {
			continue
		}
		r := PT(new(T))
		if err := proto.Unmarshal(m.Value, r); err != nil {
			panic("bustest: " + m.Topic + ": " + err.Error())
		}
		out = append(out, r)
	}
	return out
}
