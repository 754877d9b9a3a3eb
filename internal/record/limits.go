package record

// MaxMPLSLabels bounds Flow.mpls_labels: IPFIX and NetFlow v9 define ten
// label-stack elements (70..79), and a decoder walking a packet header
// stops there rather than growing the record with the input.
const MaxMPLSLabels = 10
