// The API's JSON shapes the console reads (see /api/v1/openapi.json).

export interface Window { start: string; end: string; bytes: number; bps: number; retransmits: number | null; source: string; note?: string }
export interface Contributor { key: string; node?: string; baseline_bytes: number; spike_bytes: number; delta_bytes: number; share: number; growth: number }
export interface MapNode { id: string; kind: string; label: string; node?: string; namespace?: string; pod?: string; process?: string; ip?: string; port?: number }
export interface MapEdge { source: string; target: string; port: number; bytes: number; connections: number | null; rtt_avg_us: number | null; retransmits: number | null }
export interface TrafficMap { nodes: MapNode[]; edges: MapEdge[] }
export interface HealthStats { bytes: number; segments: number; retransmits: number; retransmit_rate: number; rtt_avg_us: number; rtt_p50_us: number; rtt_p95_us: number; rtt_p99_us: number; jitter_us: number }
export interface SessionHealth { path: string; node?: string; pod?: string; remote_ip: string; port: number; spike: HealthStats; baseline: HealthStats; degraded: boolean; reason?: string }
export interface PathInterface {
  device: string; if_index: number; name: string; role: string; oper_status: string; flow_bytes: number
  snmp: { speed_bps: number; in_bps: number; out_bps: number; max_utilization: number; errors: number; discards: number } | null
}
export interface Reconciliation { exporter: string; device: string; if_index: number; interface: string; direction: string; sampling_rate: number; flow_bytes: number; snmp_bytes: number; ratio: number; status: string; hint?: string }
export interface PodStatus { namespace: string; name: string; node: string; workload?: string; phase: string; restarts: number; restarts_in_window: number }
export interface Investigation {
  subject: { kind: string; node?: string; device?: string; if_index?: number; ip?: string; label: string }
  from: string; to: string
  layers: { layer: string; available: boolean; rows: number; note?: string }[]
  missing_layers: string[]
  spike: Window | null; baseline: Window | null; growth: number
  contributors: Record<'ports' | 'sessions' | 'senders' | 'receivers' | 'pods' | 'processes', Contributor[]>
  traffic_map: TrafficMap
  health: SessionHealth[]
  interfaces: PathInterface[]
  reconciliation: Reconciliation[]
  pods: PodStatus[]
  verdict: { kind: string; summary: string; evidence: string[] }
  // Asked with sessions=N (node and IP subjects): /sockets' answer over the spike window.
  sessions?: { from: string; to: string; source: string; sessions: Session[] }
  // Asked with series=chart: the series of the path's busiest polled interface over the range.
  series?: SeriesResponse
}
export interface Rates { in_bps: number; out_bps: number; in_pps: number; out_pps: number; in_errors: number; out_errors: number; in_discards: number; out_discards: number; in_utilization: number; out_utilization: number }
export interface Interface extends Rates { device: string; device_ip: string; sys_name: string; if_index: number; name: string; alias: string; description: string; speed_bps: number; oper_status: string; admin_status: string; time: string }
export interface SeriesResponse { from: string; to: string; source: string; device: string; if_index: number; step_seconds: number; points: ({ time: string } & Rates)[] }
export interface Session {
  node: string; namespace: string; pod: string; process: string; pid: number; local_ip: string; local_port: number; remote_ip: string; remote_port: number
  direction: string; bytes_sent: number; bytes_received: number; retransmits: number; rtt_avg_us: number; rtt_p50_us: number; rtt_p95_us: number; rtt_p99_us: number; jitter_us: number
}
export interface TopNRow { key: string; keys?: string[]; bytes: number; packets: number; flows: number; bps: number; share: number }
