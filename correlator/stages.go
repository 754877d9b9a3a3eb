package correlator

import (
	"time"

	"github.com/netstrata/netstrata/internal/bus"
)

// StoredFlows is when the flows of one INSERT went through each stage of
// the correlator, for Dependencies.Stored: what an end-to-end freshness
// benchmark breaks a flow's age down with.
type StoredFlows struct {
	// ReceivedMs is each flow's time_received (ms): when its collector
	// received the datagram, or else its Kafka timestamp.
	ReceivedMs []int64
	// Polled is when the consumer's poll that returned the records ended.
	Polled time.Time
	// InsertBegan and Stored bracket the batch's INSERTs (the raw flows,
	// their rollups and the other topics' rows; not the progress, which
	// follows); from Stored on the flows are queryable.
	InsertBegan, Stored time.Time
}

// reportStored hands each group's flows to Dependencies.Stored, when set.
// The slices are the batch's own: valid during the call only.
func (c *Component) reportStored(groups []*batch, batches []bus.PartitionBatch) {
	if c.deps.Stored == nil || len(batches) == 0 {
		return
	}
	polled := batches[0].Polled
	for _, b := range groups {
		if b.flows.len() > 0 {
			c.deps.Stored(StoredFlows{ReceivedMs: b.flows.timeReceived, Polled: polled, InsertBegan: b.flowsBegan, Stored: b.flowsStored})
		}
	}
}
