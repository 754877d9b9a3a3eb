package correlator

import (
	"slices"

	"github.com/netstrata/netstrata/internal/ipdb"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/schema"
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
	return []column{{schema.KafkaPartition, k.partition}, {schema.KafkaOffset, k.offset}}
}

// podCols are the pod enrichment of one side of a flow or socket.
type podCols struct {
	names                          podColNames
	pod, namespace, workload, node []string
	withNode                       bool // names.node is set
}

// podColNames are the columns of one side's pod, namespace, workload and
// node ("" for a side without one: a socket's own end).
type podColNames struct{ pod, namespace, workload, node string }

// The pod columns of each side of a flow and of a socket.
var (
	flowSrcPodColumns      = podColNames{schema.FlowSrcPod, schema.FlowSrcNamespace, schema.FlowSrcWorkload, schema.FlowSrcNode}
	flowDstPodColumns      = podColNames{schema.FlowDstPod, schema.FlowDstNamespace, schema.FlowDstWorkload, schema.FlowDstNode}
	socketLocalPodColumns  = podColNames{schema.SocketLocalPod, schema.SocketLocalNamespace, schema.SocketLocalWorkload, ""}
	socketRemotePodColumns = podColNames{
		schema.SocketRemotePod, schema.SocketRemoteNamespace, schema.SocketRemoteWorkload, schema.SocketRemoteNode,
	}
)

func newPodCols(names podColNames) podCols { return podCols{names: names, withNode: names.node != ""} }

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
	c := []column{{p.names.pod, p.pod}, {p.names.namespace, p.namespace}, {p.names.workload, p.workload}}
	if p.withNode {
		c = append(c, column{p.names.node, p.node})
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
	sequenceLost                      []uint32
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
	return &flowRows{src: newPodCols(flowSrcPodColumns), dst: newPodCols(flowDstPodColumns),
		srcNet: asCols{names: srcASColumns}, dstNet: asCols{names: dstASColumns}}
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
	for _, s := range []*[]uint32{&r.observationDomain, &r.sequence, &r.sequenceLost, &r.inIf, &r.outIf} {
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
	r.sequenceLost = append(r.sequenceLost, f.SequenceLost)
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
		{schema.FlowTimeReceived, r.timeReceived}, {schema.FlowTimeFlowStart, r.timeStart},
		{schema.FlowTimeFlowEnd, r.timeEnd}, {schema.FlowType, r.flowType}, {schema.FlowExporterIP, r.exporterIP},
		{schema.FlowExporterName, r.exporterName}, {schema.FlowObservationDomain, r.observationDomain},
		{schema.FlowSequence, r.sequence}, {schema.FlowSequenceLost, r.sequenceLost}, {schema.FlowSamplingRate, r.samplingRate}, {schema.FlowInIf, r.inIf},
		{schema.FlowInIfName, r.inIfName}, {schema.FlowInIfAlias, r.inIfAlias}, {schema.FlowInIfSpeed, r.inIfSpeed},
		{schema.FlowOutIf, r.outIf}, {schema.FlowOutIfName, r.outIfName}, {schema.FlowOutIfAlias, r.outIfAlias},
		{schema.FlowOutIfSpeed, r.outIfSpeed}, {schema.FlowDirection, r.direction}, {schema.FlowSrcIP, r.srcIP},
		{schema.FlowDstIP, r.dstIP}, {schema.FlowSrcPort, r.srcPort}, {schema.FlowDstPort, r.dstPort},
		{schema.FlowProto, r.proto}, {schema.FlowTCPFlags, r.tcpFlags}, {schema.FlowEtype, r.etype},
		{schema.FlowIPToS, r.ipTos}, {schema.FlowBytes, r.bytes}, {schema.FlowPackets, r.packets},
		{schema.FlowSrcVLAN, r.srcVlan}, {schema.FlowDstVLAN, r.dstVlan}, {schema.FlowNextHop, r.nextHop},
		{schema.FlowSrcMask, r.srcMask}, {schema.FlowDstMask, r.dstMask}, {schema.FlowApplication, r.application},
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
	return &socketRows{local: newPodCols(socketLocalPodColumns), remote: newPodCols(socketRemotePodColumns)}
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
		{schema.SocketTime, r.time}, {schema.SocketIntervalMs, r.intervalMs}, {schema.SocketNode, r.node},
		{schema.SocketNetns, r.netns}, {schema.SocketID, r.socketID}, {schema.SocketLocalIP, r.localIP},
		{schema.SocketLocalPort, r.localPort}, {schema.SocketRemoteIP, r.remoteIP},
		{schema.SocketRemotePort, r.remotePort}, {schema.SocketDirection, r.direction}, {schema.SocketPID, r.pid},
		{schema.SocketComm, r.comm}, {schema.SocketCgroupID, r.cgroupID}, {schema.SocketContainerID, r.containerID},
		{schema.SocketPodUID, r.podUID},
	}
	c = append(c, r.local.columns()...)
	c = append(c, r.remote.columns()...)
	c = append(c,
		column{schema.SocketBytesSent, r.bytesSent}, column{schema.SocketBytesReceived, r.bytesReceived},
		column{schema.SocketSegsOut, r.segsOut}, column{schema.SocketSegsIn, r.segsIn},
		column{schema.SocketRetransmits, r.retransmits}, column{schema.SocketTotalRetrans, r.totalRetrans},
		column{schema.SocketSRTTUs, r.srtt}, column{schema.SocketSRTTMinUs, r.srttMin},
		column{schema.SocketSRTTMaxUs, r.srttMax}, column{schema.SocketRTTVarUs, r.rttvar},
		column{schema.SocketJitterUs, r.jitter}, column{schema.SocketConnectLatencyUs, r.connectLatency},
		column{schema.SocketState, r.state}, column{schema.SocketOpenTime, r.openTime},
		column{schema.SocketCloseTime, r.closeTime}, column{schema.SocketAgentStrategy, r.agentStrategy},
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
	counterColumns = [12]string{
		schema.IfStatsInOctets, schema.IfStatsOutOctets, schema.IfStatsInUcastPkts, schema.IfStatsOutUcastPkts,
		schema.IfStatsInMcastPkts, schema.IfStatsOutMcastPkts, schema.IfStatsInBcastPkts, schema.IfStatsOutBcastPkts,
		schema.IfStatsInErrors, schema.IfStatsOutErrors, schema.IfStatsInDiscards, schema.IfStatsOutDiscards,
	}
	deltaColumns = [8]string{
		schema.IfStatsDeltaInOctets, schema.IfStatsDeltaOutOctets, schema.IfStatsDeltaInPkts, schema.IfStatsDeltaOutPkts,
		schema.IfStatsDeltaInErrors, schema.IfStatsDeltaOutErrors, schema.IfStatsDeltaInDiscards, schema.IfStatsDeltaOutDiscards,
	}
	rateColumns = [6]string{
		schema.IfStatsInBps, schema.IfStatsOutBps, schema.IfStatsInPps, schema.IfStatsOutPps,
		schema.IfStatsInUtilization, schema.IfStatsOutUtilization,
	}
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
		{schema.IfStatsTime, r.time}, {schema.IfStatsPrevTime, r.prevTime}, {schema.IfStatsDevice, r.device},
		{schema.IfStatsDeviceIP, r.deviceIP}, {schema.IfStatsSysName, r.sysName},
		{schema.IfStatsSNMPEngineID, r.engineID}, {schema.IfStatsSysUptimeCs, r.uptime},
		{schema.IfStatsIfIndex, r.ifIndex}, {schema.IfStatsIfName, r.ifName}, {schema.IfStatsIfAlias, r.ifAlias},
		{schema.IfStatsIfDescr, r.ifDescr}, {schema.IfStatsSpeedBps, r.speed},
		{schema.IfStatsOperStatus, r.operStatus}, {schema.IfStatsAdminStatus, r.adminStatus},
		{schema.IfStatsHCCounters, r.hc}, {schema.IfStatsRateValid, r.rateValid},
		{schema.IfStatsCounterReset, r.counterReset}, {schema.IfStatsCounterWrap, r.counterWrap},
		{schema.IfStatsOverSpeed, r.over},
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
		{schema.PodTime, r.time}, {schema.PodUID, r.uid}, {schema.PodName, r.name},
		{schema.PodNamespace, r.namespace}, {schema.PodNode, r.node}, {schema.PodIPs, r.ips},
		{schema.PodOwnerKind, r.ownerKind}, {schema.PodOwnerName, r.ownerName}, {schema.PodPhase, r.phase},
		{schema.PodRestarts, r.restarts}, {schema.PodContainerNames, r.cNames}, {schema.PodContainerIDs, r.cIDs},
		{schema.PodContainerImages, r.cImages}, {schema.PodContainerRestarts, r.cRestarts},
		{schema.PodContainerCPURequestMillis, r.cCPUReq}, {schema.PodContainerCPULimitMillis, r.cCPULim},
		{schema.PodContainerMemoryRequestBytes, r.cMemReq}, {schema.PodContainerMemoryLimitBytes, r.cMemLim},
		{schema.PodStartTime, r.startTime}, {schema.PodDeleted, r.deleted}, {schema.PodHostNetwork, r.hostNetwork},
		{schema.PodLabels, r.labels},
	}
	return append(c, r.kafka.columns()...)
}
