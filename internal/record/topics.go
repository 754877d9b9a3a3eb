// Package record holds the protobuf records netstrata's components publish
// to Kafka, their topic names and small helpers to build them.
package record

//go:generate protoc --go_out=. --go_opt=paths=source_relative netstrata.proto

// Topic names are versioned: a breaking schema change gets new topics.
const (
	TopicIfStats = "netstrata.ifstats.v1"
	TopicFlows   = "netstrata.flows.v1"
	TopicSockets = "netstrata.sockets.v1"
	TopicPods    = "netstrata.pods.v1"
	// TopicDeadLetter receives records the correlator could not decode,
	// with the reason and origin in headers.
	TopicDeadLetter = "netstrata.deadletter.v1"
)

// Topics lists the data topics, in the order of the data flow.
var Topics = []string{TopicIfStats, TopicFlows, TopicSockets, TopicPods}
