package correlator

import (
	"slices"

	"github.com/netstrata/netstrata/internal/ipdb"
	"github.com/netstrata/netstrata/internal/record"
)

// The builders below accumulate one INSERT per table column by column, in
// the column types clickhouse-go appends without conversion. Each add
// validates the whole record before appending anything, so an invalid
// record leaves no partial row.

// column is one column of an INSERT: its name and its values (a slice).
type column struct {
	name   string
	values any
}

// origin is where a record came from: its Kafka partition and offset, and
// its Kafka timestamp (ms) for records that lack their own time.
type origin struct {
	partition int32
	offset    int64
	tsMs      int64
}

// kafkaCols are the bookkeeping columns every raw table ends with.
type kafkaCols struct {
	partition []uint16
	offset    []uint64
}

func (k *kafkaCols) add(o origin) {
	k.partition = append(k.partition, uint16(o.partition))
	k.offset = append(k.offset, uint64(o.offset))
}

func (k *kafkaCols) reserve(n int) {
	k.partition = slices.Grow(k.partition, n)
	k.offset = slices.Grow(k.offset, n)
}

func (k *kafkaCols) columns() []column {
	return []column{{"kafka_partition", k.partition}, {"kafka_offset", k.offset}}
}

// podCols are the pod enrichment of one side of a flow or socket.
type podCols struct {
	prefix                         string
	pod, namespace, workload, node []string
	withNode                       bool
}

func (p *podCols) add(info podInfo) {
	p.pod = append(p.pod, info.name)
	p.namespace = append(p.namespace, info.namespace)
	p.workload = append(p.workload, info.workload)
	if p.withNode {
		p.node = append(p.node, info.node)
	}
}

func (p *podCols) reserve(n int) {
	for _, s := range []*[]string{&p.pod, &p.namespace, &p.workload} {
		*s = slices.Grow(*s, n)
	}
	if p.withNode {
		p.node = slices.Grow(p.node, n)
	}
}

func (p *podCols) columns() []column {
	c := []column{{p.prefix + "_pod", p.pod}, {p.prefix + "_namespace", p.namespace}, {p.prefix + "_workload", p.workload}}
	if p.withNode {
		c = append(c, column{p.prefix + "_node", p.node})
	}
	return c
}

// enrichCounts counts lookups of one batch, for the metrics.
type enrichCounts struct {
	ifHit, ifMiss, podHit, podMiss int
}

// flowRows builds an INSERT into flows.
type flowRows struct {
	timeReceived, timeStart, timeEnd  []int64
	flowType, direction               []int8
	exporterIP, srcIP, dstIP, nextHop [][16]byte
	exporterName                      []string
	observationDomain, sequence       []uint32
	samplingRate, bytes, packets      []uint64
	inIf, outIf                       []uint32
	inIfName, inIfAlias, outIfName    []string
	outIfAlias, application           []string
	inIfSpeed, outIfSpeed             []uint64
	srcPort, dstPort, tcpFlags, etype []uint16
	srcVlan, dstVlan                  []uint16
	proto, ipTos, srcMask, dstMask    []uint8
	basis                             flowBasisCols
	fields                            flowFieldCols
	src, dst                          podCols
	srcNet, dstNet                    asCols
	kafka                             kafkaCols
	opt                               optional     // the record being added
	zeroed                            zeroedFields // per exporter and field
}

func newFlowRows() *flowRows {
	return &flowRows{src: podCols{prefix: "src", withNode: true}, dst: podCols{prefix: "dst", withNode: true},
		srcNet: asCols{prefix: "src"}, dstNet: asCols{prefix: "dst"}}
}

func (r *flowRows) len() int { return len(r.timeReceived) }

// reserve makes room for n more rows at once: a batch holds hundreds of
// thousands, and growing some 70 slices by doubling would allocate (and leave
// for the GC) about twice what they finally hold.
func (r *flowRows) reserve(n int) {
	for _, s := range []*[]int64{&r.timeReceived, &r.timeStart, &r.timeEnd} {
		*s = slices.Grow(*s, n)
	}
	for _, s := range []*[]int8{&r.flowType, &r.direction} {
		*s = slices.Grow(*s, n)
	}
	for _, s := range []*[][16]byte{&r.exporterIP, &r.srcIP, &r.dstIP, &r.nextHop} {
		*s = slices.Grow(*s, n)
	}
	for _, s := range []*[]string{&r.exporterName, &r.inIfName, &r.inIfAlias, &r.outIfName, &r.outIfAlias, &r.application} {
		*s = slices.Grow(*s, n)
	}
	for _, s := range []*[]uint32{&r.observationDomain, &r.sequence, &r.inIf, &r.outIf} {
		*s = slices.Grow(*s, n)
	}
	for _, s := range []*[]uint64{&r.samplingRate, &r.bytes, &r.packets, &r.inIfSpeed, &r.outIfSpeed} {
		*s = slices.Grow(*s, n)
	}
	for _, s := range []*[]uint16{&r.srcPort, &r.dstPort, &r.tcpFlags, &r.etype, &r.srcVlan, &r.dstVlan} {
		*s = slices.Grow(*s, n)
	}
	for _, s := range []*[]uint8{&r.proto, &r.ipTos, &r.srcMask, &r.dstMask} {
		*s = slices.Grow(*s, n)
	}
	r.basis.reserve(n)
	r.fields.reserve(n)
	r.src.reserve(n)
	r.dst.reserve(n)
	r.srcNet.reserve(n)
	r.dstNet.reserve(n)
	r.kafka.reserve(n)
}

func (r *flowRows) add(f *record.Flow, o origin, ifs interfaceView, pods podView, nets *ipdb.DB, n *enrichCounts) error {
	// Without its exporter or its endpoints a flow cannot be stored: they
	// are what every query groups it by.
	exporter, e1 := ip16(f.ExporterIp, "exporter_ip")
	src, e2 := ip16(f.SrcIp, "src_ip")
	dst, e3 := ip16(f.DstIp, "dst_ip")
	if err := firstErr(e1, e2, e3); err != nil {
		return err
	}
	opt := &r.opt
	opt.reset()
	hop := opt.ip(f.NextHop, "next_hop")
	received := opt.ms(f.TimeReceivedNs, "time_received_ns")
	start := opt.ms(f.TimeFlowStartNs, "time_flow_start_ns")
	end := opt.ms(f.TimeFlowEndNs, "time_flow_end_ns")
	sport := within[uint16](opt, uint64(f.SrcPort), maxU16, "src_port")
	dport := within[uint16](opt, uint64(f.DstPort), maxU16, "dst_port")
	proto := within[uint8](opt, uint64(f.Proto), maxU8, "proto")
	flags := within[uint16](opt, uint64(f.TcpFlags), maxU16, "tcp_flags")
	etype := within[uint16](opt, uint64(f.Etype), maxU16, "etype")
	tos := within[uint8](opt, uint64(f.IpTos), maxU8, "ip_tos")
	svlan := within[uint16](opt, uint64(f.SrcVlan), maxVLAN, "src_vlan")
	dvlan := within[uint16](opt, uint64(f.DstVlan), maxVLAN, "dst_vlan")
	smask := within[uint8](opt, uint64(f.SrcMask), maxMask, "src_mask")
	dmask := within[uint8](opt, uint64(f.DstMask), maxMask, "dst_mask")
	r.fields.add(f, opt, dport, proto)
	r.zeroed.note(exporter, opt.zeroed)
	if received == 0 {
		received = o.tsMs
	}
	sampling := f.SamplingRate
	if sampling == 0 {
		sampling = 1
	}
	r.timeReceived = append(r.timeReceived, received)
	r.timeStart = append(r.timeStart, start)
	r.timeEnd = append(r.timeEnd, end)
	r.flowType = append(r.flowType, enum8(int32(f.Type), 4))
	r.direction = append(r.direction, enum8(int32(f.Direction), 2))
	r.exporterIP = append(r.exporterIP, exporter)
	r.exporterName = append(r.exporterName, ifs.device(exporter))
	r.observationDomain = append(r.observationDomain, f.ObservationDomain)
	r.sequence = append(r.sequence, f.Sequence)
	r.samplingRate = append(r.samplingRate, sampling)
	r.basis.add(f)
	for _, side := range []struct {
		index       uint32
		idx         *[]uint32
		name, alias *[]string
		speed       *[]uint64
	}{
		{ifIndex(f.InIf, f.InIfKind), &r.inIf, &r.inIfName, &r.inIfAlias, &r.inIfSpeed},
		{ifIndex(f.OutIf, f.OutIfKind), &r.outIf, &r.outIfName, &r.outIfAlias, &r.outIfSpeed},
	} {
		var info ifInfo
		if side.index != 0 {
			var ok bool
			if info, ok = ifs.lookup(exporter, side.index); ok {
				n.ifHit++
			} else {
				n.ifMiss++
			}
		}
		*side.idx = append(*side.idx, side.index)
		*side.name = append(*side.name, info.name)
		*side.alias = append(*side.alias, info.alias)
		*side.speed = append(*side.speed, info.speed)
	}
	r.srcIP = append(r.srcIP, src)
	r.dstIP = append(r.dstIP, dst)
	r.srcPort = append(r.srcPort, sport)
	r.dstPort = append(r.dstPort, dport)
	r.proto = append(r.proto, proto)
	r.tcpFlags = append(r.tcpFlags, flags)
	r.etype = append(r.etype, etype)
	r.ipTos = append(r.ipTos, tos)
	r.bytes = append(r.bytes, f.Bytes)
	r.packets = append(r.packets, f.Packets)
	r.srcVlan = append(r.srcVlan, svlan)
	r.dstVlan = append(r.dstVlan, dvlan)
	r.nextHop = append(r.nextHop, hop)
	r.srcMask = append(r.srcMask, smask)
	r.dstMask = append(r.dstMask, dmask)
	r.application = append(r.application, f.Application)
	r.src.add(lookupPod(pods, src, received, n))
	r.dst.add(lookupPod(pods, dst, received, n))
	r.srcNet.add(nets, src, f.SrcAs)
	r.dstNet.add(nets, dst, f.DstAs)
	r.kafka.add(o)
	return nil
}

// lookupPod finds the pod of a non-empty IP at a time.
func lookupPod(pods podView, ip [16]byte, atMs int64, n *enrichCounts) podInfo {
	if ip == ([16]byte{}) {
		return podInfo{}
	}
	info, ok := pods.lookup(ip, atMs)
	if ok {
		n.podHit++
	} else {
		n.podMiss++
	}
	return info
}

func (r *flowRows) columns() []column {
	c := []column{
		{"time_received", r.timeReceived}, {"time_flow_start", r.timeStart}, {"time_flow_end", r.timeEnd},
		{"flow_type", r.flowType}, {"exporter_ip", r.exporterIP}, {"exporter_name", r.exporterName},
		{"observation_domain", r.observationDomain}, {"sequence", r.sequence}, {"sampling_rate", r.samplingRate},
		{"in_if", r.inIf}, {"in_if_name", r.inIfName}, {"in_if_alias", r.inIfAlias}, {"in_if_speed", r.inIfSpeed},
		{"out_if", r.outIf}, {"out_if_name", r.outIfName}, {"out_if_alias", r.outIfAlias}, {"out_if_speed", r.outIfSpeed},
		{"direction", r.direction}, {"src_ip", r.srcIP}, {"dst_ip", r.dstIP},
		{"src_port", r.srcPort}, {"dst_port", r.dstPort}, {"proto", r.proto}, {"tcp_flags", r.tcpFlags},
		{"etype", r.etype}, {"ip_tos", r.ipTos}, {"bytes", r.bytes}, {"packets", r.packets},
		{"src_vlan", r.srcVlan}, {"dst_vlan", r.dstVlan}, {"next_hop", r.nextHop},
		{"src_mask", r.srcMask}, {"dst_mask", r.dstMask},
		{"application", r.application},
	}
	c = append(c, r.basis.columns()...)
	c = append(c, r.fields.columns()...)
	c = append(c, r.src.columns()...)
	c = append(c, r.dst.columns()...)
	c = append(c, r.srcNet.columns()...)
	c = append(c, r.dstNet.columns()...)
	return append(c, r.kafka.columns()...)
}

// socketRows builds an INSERT into sockets.
type socketRows struct {
	time, openTime, closeTime                              []int64
	intervalMs, pid, retransmits, totalRetrans             []uint32
	srtt, srttMin, srttMax, rttvar, jitter, connectLatency []uint32
	node, comm, containerID, podUID, agentStrategy         []string
	netns, socketID, cgroupID                              []uint64
	bytesSent, bytesReceived, segsOut, segsIn              []uint64
	localIP, remoteIP                                      [][16]byte
	localPort, remotePort                                  []uint16
	direction                                              []int8
	state                                                  []uint8
	local, remote                                          podCols
	kafka                                                  kafkaCols
}

func newSocketRows() *socketRows {
	return &socketRows{local: podCols{prefix: "local"}, remote: podCols{prefix: "remote", withNode: true}}
}

func (r *socketRows) len() int { return len(r.time) }

func (r *socketRows) add(s *record.SocketStats, o origin, pods podView, n *enrichCounts) error {
	local, e1 := ip16(s.LocalIp, "local_ip")
	remote, e2 := ip16(s.RemoteIp, "remote_ip")
	t, e3 := ms(s.TimeNs, "time_ns")
	open, e4 := ms(s.OpenTimeNs, "open_time_ns")
	closed, e5 := ms(s.CloseTimeNs, "close_time_ns")
	lport, e6 := u16(s.LocalPort, "local_port")
	rport, e7 := u16(s.RemotePort, "remote_port")
	state, e8 := u8(s.State, "state")
	if err := firstErr(e1, e2, e3, e4, e5, e6, e7, e8); err != nil {
		return err
	}
	if t == 0 {
		t = o.tsMs
	}
	interval := s.IntervalNs / 1e6
	if interval > 1<<32-1 {
		return invalidf("interval_ns %d is absurd", s.IntervalNs)
	}
	r.time = append(r.time, t)
	r.intervalMs = append(r.intervalMs, uint32(interval))
	r.node = append(r.node, s.Node)
	r.netns = append(r.netns, s.Netns)
	r.socketID = append(r.socketID, s.SocketId)
	r.localIP = append(r.localIP, local)
	r.localPort = append(r.localPort, lport)
	r.remoteIP = append(r.remoteIP, remote)
	r.remotePort = append(r.remotePort, rport)
	r.direction = append(r.direction, enum8(int32(s.Direction), 2))
	r.pid = append(r.pid, s.Pid)
	r.comm = append(r.comm, s.Comm)
	r.cgroupID = append(r.cgroupID, s.CgroupId)
	r.containerID = append(r.containerID, s.ContainerId)
	r.podUID = append(r.podUID, s.PodUid)
	var info podInfo
	ok := false
	if s.PodUid != "" {
		info, ok = pods.byUID(s.PodUid)
		if ok {
			n.podHit++
		}
	}
	if !ok {
		info = lookupPod(pods, local, t, n)
	}
	r.local.add(info)
	r.remote.add(lookupPod(pods, remote, t, n))
	r.bytesSent = append(r.bytesSent, s.BytesSent)
	r.bytesReceived = append(r.bytesReceived, s.BytesReceived)
	r.segsOut = append(r.segsOut, s.SegsOut)
	r.segsIn = append(r.segsIn, s.SegsIn)
	r.retransmits = append(r.retransmits, s.Retransmits)
	r.totalRetrans = append(r.totalRetrans, s.TotalRetrans)
	r.srtt = append(r.srtt, s.SrttUs)
	r.srttMin = append(r.srttMin, s.SrttMinUs)
	r.srttMax = append(r.srttMax, s.SrttMaxUs)
	r.rttvar = append(r.rttvar, s.RttvarUs)
	r.jitter = append(r.jitter, s.JitterUs)
	r.connectLatency = append(r.connectLatency, s.ConnectLatencyUs)
	r.state = append(r.state, state)
	r.openTime = append(r.openTime, open)
	r.closeTime = append(r.closeTime, closed)
	r.agentStrategy = append(r.agentStrategy, s.AgentStrategy)
	r.kafka.add(o)
	return nil
}

func (r *socketRows) columns() []column {
	c := []column{
		{"time", r.time}, {"interval_ms", r.intervalMs}, {"node", r.node}, {"netns", r.netns}, {"socket_id", r.socketID},
		{"local_ip", r.localIP}, {"local_port", r.localPort}, {"remote_ip", r.remoteIP}, {"remote_port", r.remotePort},
		{"direction", r.direction}, {"pid", r.pid}, {"comm", r.comm}, {"cgroup_id", r.cgroupID},
		{"container_id", r.containerID}, {"pod_uid", r.podUID},
	}
	c = append(c, r.local.columns()...)
	c = append(c, r.remote.columns()...)
	c = append(c,
		column{"bytes_sent", r.bytesSent}, column{"bytes_received", r.bytesReceived},
		column{"segs_out", r.segsOut}, column{"segs_in", r.segsIn},
		column{"retransmits", r.retransmits}, column{"total_retrans", r.totalRetrans},
		column{"srtt_us", r.srtt}, column{"srtt_min_us", r.srttMin}, column{"srtt_max_us", r.srttMax},
		column{"rttvar_us", r.rttvar}, column{"jitter_us", r.jitter}, column{"connect_latency_us", r.connectLatency},
		column{"state", r.state}, column{"open_time", r.openTime}, column{"close_time", r.closeTime},
		column{"agent_strategy", r.agentStrategy},
	)
	return append(c, r.kafka.columns()...)
}

// ifStatsRows builds an INSERT into ifstats.
type ifStatsRows struct {
	time, prevTime                                 []int64
	device, sysName, engineID, ifName, ifAlias     []string
	ifDescr                                        []string
	deviceIP                                       [][16]byte
	uptime, speed                                  []uint64
	ifIndex                                        []uint32
	operStatus, adminStatus                        []uint8
	hc, rateValid, counterReset, counterWrap, over []bool
	counters                                       [12][]uint64
	deltas                                         [8][]uint64
	rates                                          [6][]float64
	kafka                                          kafkaCols
}

var (
	counterColumns = [12]string{"in_octets", "out_octets", "in_ucast_pkts", "out_ucast_pkts", "in_mcast_pkts", "out_mcast_pkts",
		"in_bcast_pkts", "out_bcast_pkts", "in_errors", "out_errors", "in_discards", "out_discards"}
	deltaColumns = [8]string{"delta_in_octets", "delta_out_octets", "delta_in_pkts", "delta_out_pkts",
		"delta_in_errors", "delta_out_errors", "delta_in_discards", "delta_out_discards"}
	rateColumns = [6]string{"in_bps", "out_bps", "in_pps", "out_pps", "in_utilization", "out_utilization"}
)

func (r *ifStatsRows) len() int { return len(r.time) }

// add appends one poll and returns what the interface cache learns from it.
func (r *ifStatsRows) add(s *record.InterfaceStats, o origin) ([16]byte, ifInfo, error) {
	ip, e1 := ip16(s.DeviceIp, "device_ip")
	t, e2 := ms(s.TimeNs, "time_ns")
	prev, e3 := ms(s.PrevTimeNs, "prev_time_ns")
	oper, e4 := u8(s.OperStatus, "oper_status")
	admin, e5 := u8(s.AdminStatus, "admin_status")
	if err := firstErr(e1, e2, e3, e4, e5); err != nil {
		return ip, ifInfo{}, err
	}
	if t == 0 {
		t = o.tsMs
	}
	r.time = append(r.time, t)
	r.prevTime = append(r.prevTime, prev)
	r.device = append(r.device, s.Device)
	r.deviceIP = append(r.deviceIP, ip)
	r.sysName = append(r.sysName, s.SysName)
	r.engineID = append(r.engineID, s.SnmpEngineId)
	r.uptime = append(r.uptime, s.SysUptimeCs)
	r.ifIndex = append(r.ifIndex, s.IfIndex)
	r.ifName = append(r.ifName, s.IfName)
	r.ifAlias = append(r.ifAlias, s.IfAlias)
	r.ifDescr = append(r.ifDescr, s.IfDescr)
	r.speed = append(r.speed, s.SpeedBps)
	r.operStatus = append(r.operStatus, oper)
	r.adminStatus = append(r.adminStatus, admin)
	r.hc = append(r.hc, s.HcCounters)
	for i, v := range [12]uint64{s.InOctets, s.OutOctets, s.InUcastPkts, s.OutUcastPkts, s.InMcastPkts, s.OutMcastPkts,
		s.InBcastPkts, s.OutBcastPkts, s.InErrors, s.OutErrors, s.InDiscards, s.OutDiscards} {
		r.counters[i] = append(r.counters[i], v)
	}
	r.rateValid = append(r.rateValid, s.RateValid)
	for i, v := range [8]uint64{s.DeltaInOctets, s.DeltaOutOctets, s.DeltaInPkts, s.DeltaOutPkts,
		s.DeltaInErrors, s.DeltaOutErrors, s.DeltaInDiscards, s.DeltaOutDiscards} {
		r.deltas[i] = append(r.deltas[i], v)
	}
	for i, v := range [6]float64{s.InBps, s.OutBps, s.InPps, s.OutPps, s.InUtilization, s.OutUtilization} {
		r.rates[i] = append(r.rates[i], v)
	}
	r.counterReset = append(r.counterReset, s.CounterReset)
	r.counterWrap = append(r.counterWrap, s.CounterWrap)
	r.over = append(r.over, s.OverSpeed)
	r.kafka.add(o)
	return ip, ifInfo{device: s.Device, name: s.IfName, alias: s.IfAlias, speed: s.SpeedBps, timeMs: t}, nil
}

func (r *ifStatsRows) columns() []column {
	c := []column{
		{"time", r.time}, {"prev_time", r.prevTime}, {"device", r.device}, {"device_ip", r.deviceIP},
		{"sys_name", r.sysName}, {"snmp_engine_id", r.engineID}, {"sys_uptime_cs", r.uptime}, {"if_index", r.ifIndex}, {"if_name", r.ifName},
		{"if_alias", r.ifAlias}, {"if_descr", r.ifDescr}, {"speed_bps", r.speed}, {"oper_status", r.operStatus},
		{"admin_status", r.adminStatus}, {"hc_counters", r.hc}, {"rate_valid", r.rateValid},
		{"counter_reset", r.counterReset}, {"counter_wrap", r.counterWrap}, {"over_speed", r.over},
	}
	for i, name := range counterColumns {
		c = append(c, column{name, r.counters[i]})
	}
	for i, name := range deltaColumns {
		c = append(c, column{name, r.deltas[i]})
	}
	for i, name := range rateColumns {
		c = append(c, column{name, r.rates[i]})
	}
	return append(c, r.kafka.columns()...)
}

// podRows builds an INSERT into pods.
type podRows struct {
	time, startTime                                  []int64
	uid, name, namespace, node, ownerKind, ownerName []string
	phase                                            []string
	ips                                              [][][16]byte
	restarts                                         []uint32
	cNames, cIDs, cImages                            [][]string
	cRestarts                                        [][]uint32
	cCPUReq, cCPULim, cMemReq, cMemLim               [][]int64
	deleted, hostNetwork                             []bool
	labels                                           []map[string]string
	kafka                                            kafkaCols
}

func (r *podRows) len() int { return len(r.time) }

// add appends one pod publication and returns the cache update it implies.
func (r *podRows) add(p *record.Pod, o origin) (podUpdate, error) {
	t, e1 := ms(p.TimeNs, "time_ns")
	start, e2 := ms(p.StartTimeNs, "start_time_ns")
	if err := firstErr(e1, e2); err != nil {
		return podUpdate{}, err
	}
	if p.Uid == "" {
		return podUpdate{}, invalidf("pod without uid")
	}
	ips := make([][16]byte, 0, len(p.Ips))
	for i, b := range p.Ips {
		ip, err := ip16(b, "ips")
		if err != nil {
			return podUpdate{}, invalidf("ips[%d] has %d bytes", i, len(b))
		}
		ips = append(ips, ip)
	}
	if t == 0 {
		t = o.tsMs
	}
	r.time = append(r.time, t)
	r.uid = append(r.uid, p.Uid)
	r.name = append(r.name, p.Name)
	r.namespace = append(r.namespace, p.Namespace)
	r.node = append(r.node, p.Node)
	r.ips = append(r.ips, ips)
	r.ownerKind = append(r.ownerKind, p.OwnerKind)
	r.ownerName = append(r.ownerName, p.OwnerName)
	r.phase = append(r.phase, p.Phase)
	r.restarts = append(r.restarts, p.Restarts)
	var names, ids, images []string
	var restarts []uint32
	var cpuReq, cpuLim, memReq, memLim []int64
	for _, c := range p.Containers {
		names = append(names, c.Name)
		ids = append(ids, c.ContainerId)
		images = append(images, c.Image)
		restarts = append(restarts, c.Restarts)
		cpuReq = append(cpuReq, c.CpuRequestMillis)
		cpuLim = append(cpuLim, c.CpuLimitMillis)
		memReq = append(memReq, c.MemoryRequestBytes)
		memLim = append(memLim, c.MemoryLimitBytes)
	}
	r.cNames = append(r.cNames, nonNil(names))
	r.cIDs = append(r.cIDs, nonNil(ids))
	r.cImages = append(r.cImages, nonNil(images))
	r.cRestarts = append(r.cRestarts, nonNil(restarts))
	r.cCPUReq = append(r.cCPUReq, nonNil(cpuReq))
	r.cCPULim = append(r.cCPULim, nonNil(cpuLim))
	r.cMemReq = append(r.cMemReq, nonNil(memReq))
	r.cMemLim = append(r.cMemLim, nonNil(memLim))
	r.startTime = append(r.startTime, start)
	r.deleted = append(r.deleted, p.Deleted)
	r.hostNetwork = append(r.hostNetwork, p.HostNetwork)
	labels := p.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	r.labels = append(r.labels, labels)
	r.kafka.add(o)
	return podUpdate{
		timeMs: t, startMs: start, uid: p.Uid, ips: ips, deleted: p.Deleted, hostNetwork: p.HostNetwork,
		info: podInfo{name: p.Name, namespace: p.Namespace, workload: p.OwnerName, node: p.Node},
	}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (r *podRows) columns() []column {
	c := []column{
		{"time", r.time}, {"uid", r.uid}, {"name", r.name}, {"namespace", r.namespace}, {"node", r.node},
		{"ips", r.ips}, {"owner_kind", r.ownerKind}, {"owner_name", r.ownerName}, {"phase", r.phase},
		{"restarts", r.restarts}, {"container_names", r.cNames}, {"container_ids", r.cIDs},
		{"container_images", r.cImages}, {"container_restarts", r.cRestarts},
		{"container_cpu_request_millis", r.cCPUReq}, {"container_cpu_limit_millis", r.cCPULim},
		{"container_memory_request_bytes", r.cMemReq}, {"container_memory_limit_bytes", r.cMemLim},
		{"start_time", r.startTime}, {"deleted", r.deleted}, {"host_network", r.hostNetwork}, {"labels", r.labels},
	}
	return append(c, r.kafka.columns()...)
}
