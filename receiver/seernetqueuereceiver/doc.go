//go:generate go tool mdatagen metadata.yaml

// Package seernetqueuereceiver implements the seernetqueue receiver, the
// Seer paper's "limited instrumentation" mode for services whose code cannot
// be changed: on each node it samples the kernel's TCP socket queues of the
// services named in its configuration, on the same event-time tick as the
// queuedepth processor.
//
// A service is mapped by its listening ports. Each tick reads /proc/net/tcp
// and /proc/net/tcp6 (through prometheus/procfs) and sums, per service:
//
//   - the listen backlog: connections the kernel has completed but the
//     service has not accepted (rx_queue of its LISTEN sockets; the kernel
//     does not show the backlog limit there);
//   - the receive queue: bytes received on its connections that the service
//     has not read yet (rx_queue of the other sockets on its ports);
//   - the connections on its ports.
//
// The samples leave in two ways, as for the processor: as metrics into the
// receiver's metrics pipeline (seer_netqueue_* gauges, one resource per
// service with service.name and service.instance.id), and as series.Batch
// values (Origin "netqueue", NICDepth = receive queue bytes, ListenBacklog)
// on the series hub named by "hub" (the queuedepth processor's component ID),
// so a predictor sees them next to the span-derived series of the same
// service and instance.
//
// The files describe the network namespace of the reading process: in a
// container, point proc_root at the host's /proc/1 (with hostPID) or run the
// collector in the host network namespace.
package seernetqueuereceiver // import "github.com/seer-qos/seer/receiver/seernetqueuereceiver"
