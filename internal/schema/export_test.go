package schema

// ShardingKeys exposes the Distributed tables' sharding keys to the
// tests, which check them against the engine.
func ShardingKeys() map[string]string { return shardingKeys }
