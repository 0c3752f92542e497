package seernetqueuereceiver

import (
	"errors"
	"fmt"
	"os"

	"github.com/prometheus/procfs"
)

// tcpListen is the kernel's TCP_LISTEN socket state.
const tcpListen = 0x0A

// queues is one service's socket queues at one moment.
type queues struct {
	// ListenBacklog is connections waiting to be accepted.
	ListenBacklog uint64
	// ReceiveBytes is bytes received and not yet read by the service.
	ReceiveBytes uint64
	// Connections is the non-listening sockets on the service's ports.
	Connections uint64
	// Listening is the service's LISTEN sockets found.
	Listening uint64
}

// sampler reads socket queues and maps them to services by local port.
type sampler struct {
	fs       procfs.FS
	services []string
	byPort   map[uint64]int
}

func newSampler(procRoot string, services []ServiceConfig) (*sampler, error) {
	fs, err := procfs.NewFS(procRoot)
	if err != nil {
		return nil, fmt.Errorf("open proc file system %q: %w", procRoot, err)
	}
	s := &sampler{fs: fs, byPort: map[uint64]int{}}
	for i, svc := range services {
		s.services = append(s.services, svc.Name)
		for _, p := range svc.Ports {
			s.byPort[uint64(p)] = i
		}
	}
	return s, nil
}

// sample returns the queues of every configured service (index as in the
// configuration). A missing tcp6 file (IPv6 off) is not an error.
func (s *sampler) sample() ([]queues, error) {
	out := make([]queues, len(s.services))
	//nolint:staticcheck // The issue asks for /proc/net/tcp through procfs; netlink is the successor.
	v4, err := s.fs.NetTCP()
	if err != nil {
		return nil, fmt.Errorf("read net/tcp: %w", err)
	}
	s.add(out, v4)
	//nolint:staticcheck // As above.
	v6, err := s.fs.NetTCP6()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read net/tcp6: %w", err)
	}
	s.add(out, v6)
	return out, nil
}

func (s *sampler) add(out []queues, lines procfs.NetTCP) {
	for _, l := range lines {
		i, ok := s.byPort[l.LocalPort]
		if !ok {
			continue
		}
		q := &out[i]
		if l.St == tcpListen {
			q.Listening++
			q.ListenBacklog += l.RxQueue
			continue
		}
		q.Connections++
		q.ReceiveBytes += l.RxQueue
	}
}
