package flowcollector

import "bytes"

// maxKeySize bounds appendFlowKey's output.
const maxKeySize = 3 * 16

// appendFlowKey appends the Kafka key of a flow: the exporter, then the
// flow's two addresses in a fixed order, so that both directions of a
// conversation seen by one exporter land on one partition. Keying by
// conversation rather than by exporter spreads one big exporter over
// every partition (and correlator insert), while the flows a rollup row
// sums still meet in the same INSERT; nothing downstream needs an
// exporter's flows in order.
func appendFlowKey(b, exporter, src, dst []byte) []byte {
	if bytes.Compare(src, dst) > 0 {
		src, dst = dst, src
	}
	b = append(b, exporter...)
	b = append(b, src...)
	return append(b, dst...)
}
