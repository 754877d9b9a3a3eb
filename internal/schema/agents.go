package schema

// socketsAgentStrategy (version 17) stores which walk of the eBPF agent
// read each socket (tcp_iter, sk_storage_iter), so that the status page
// can say per node how its agent runs; rows of older agents have it empty.
const socketsAgentStrategy = "ALTER TABLE " + TableSockets + " ADD COLUMN IF NOT EXISTS agent_strategy " + lc + " DEFAULT '' AFTER close_time"
