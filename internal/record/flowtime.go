package record

import "time"

// When a flow's exporter times are believed: its end no later than
// FlowMaxClockAhead after the collector received it, no earlier than
// FlowMaxExportDelay before (an active timeout of several minutes, not a
// clock off by hours), and a life of at most FlowMaxLife. The collector
// places flows by this rule (time_basis) and the API reads them by it,
// so that both agree on where a flow's bytes fall.
const (
	FlowMaxExportDelay = 10 * time.Minute
	FlowMaxLife        = time.Hour
	FlowMaxClockAhead  = 2 * time.Second
)

// FlowTimesUsable reports whether exporter start and end times (Unix ns)
// of a flow received at received are believable.
func FlowTimesUsable(start, end, received int64) bool {
	return start > int64(365*24*time.Hour) && end >= start &&
		end <= received+int64(FlowMaxClockAhead) && end >= received-int64(FlowMaxExportDelay) &&
		end-start <= int64(FlowMaxLife)
}
