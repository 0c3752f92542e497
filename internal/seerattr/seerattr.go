// Package seerattr names the span attributes that Seer adds to OpenTelemetry
// spans. It is the one place where they are defined: the seerthrift receiver
// writes them and the queuedepth processor reads them.
//
// Timestamps are Unix nanoseconds (int). A span from seerthrift keeps the
// OpenTelemetry meaning of start and end time (SERVER span: server receive to
// processing end; CLIENT span: client send to client receive) and carries the
// finer points of its path as the attributes below.
package seerattr

const (
	// ServerReceive is when the server's transport had the whole request.
	ServerReceive = "seer.server_receive_time_unix_nano"
	// AppReceive is when the application got the decoded request.
	AppReceive = "seer.app_receive_time_unix_nano"
	// ProcessingStart is when a worker started on the request.
	ProcessingStart = "seer.processing_start_time_unix_nano"
	// ProcessingEnd is when the worker finished the request.
	ProcessingEnd = "seer.processing_end_time_unix_nano"
	// ClientSend is when the caller started writing the request.
	ClientSend = "seer.client_send_time_unix_nano"
	// ClientReceive is when the caller had read the whole reply.
	ClientReceive = "seer.client_receive_time_unix_nano"

	// OutstandingRequests is the software queue depth: requests already
	// outstanding at the service instance when this one arrived (int).
	OutstandingRequests = "seer.queue.outstanding_requests"
	// NICQueueDepth is the NIC/socket queue depth when the request arrived (int).
	NICQueueDepth = "seer.queue.nic_depth"

	// PeerService is the callee of a CLIENT span (OpenTelemetry's
	// peer.service convention).
	PeerService = "peer.service"
	// RPCSystem is set to "thrift" on every span of the receiver.
	RPCSystem = "rpc.system"
	// RPCMethod is the Thrift method name.
	RPCMethod = "rpc.method"

	// BatchSeqNo is the sender's batch sequence number (resource attribute).
	BatchSeqNo = "seer.batch.seq_no"
)
