package schema

// flowsSequenceLost (version 18) stores the export units an exporter's
// sequence numbers showed lost, on one flow of the datagram that showed
// it (0 on the others), so that a sum over an exporter's flows is its
// loss over a window: the status page shows exporter drops from stored
// data rather than only the flow collector's metrics.
const flowsSequenceLost = "ALTER TABLE " + TableFlows + " ADD COLUMN IF NOT EXISTS " + FlowSequenceLost + " UInt32 DEFAULT 0 AFTER " + FlowSequence
