package seernetqueuereceiver

import (
	"errors"
	"fmt"
	"time"
)

// Config is the configuration of the seernetqueue receiver.
type Config struct {
	// Tick is the sampling period; keep it equal to the queuedepth
	// processor's tick so that samples line up.
	Tick time.Duration `mapstructure:"tick"`
	// ProcRoot is the proc file system to read net/tcp and net/tcp6 from.
	ProcRoot string `mapstructure:"proc_root"`
	// Instance names this node's instances of the services; empty means the
	// host name.
	Instance string `mapstructure:"instance"`
	// Hub is the name of the series hub to feed: the component ID of the
	// queuedepth processor. Empty turns the in-process feed off.
	Hub string `mapstructure:"hub"`
	// Services maps listening ports to services.
	Services []ServiceConfig `mapstructure:"services"`
}

// ServiceConfig names one service and its listening ports.
type ServiceConfig struct {
	Name  string   `mapstructure:"name"`
	Ports []uint16 `mapstructure:"ports"`
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if c.Tick <= 0 {
		errs = append(errs, fmt.Errorf("tick must be positive, got %v", c.Tick))
	}
	if c.ProcRoot == "" {
		errs = append(errs, errors.New("proc_root must not be empty"))
	}
	if len(c.Services) == 0 {
		errs = append(errs, errors.New("services must name at least one service"))
	}
	owner := map[uint16]string{}
	names := map[string]bool{}
	for i, s := range c.Services {
		if s.Name == "" {
			errs = append(errs, fmt.Errorf("services[%d]: name must not be empty", i))
		}
		if names[s.Name] {
			errs = append(errs, fmt.Errorf("services[%d]: service %q listed twice", i, s.Name))
		}
		names[s.Name] = true
		if len(s.Ports) == 0 {
			errs = append(errs, fmt.Errorf("services[%d] (%s): ports must not be empty", i, s.Name))
		}
		for _, p := range s.Ports {
			if p == 0 {
				errs = append(errs, fmt.Errorf("services[%d] (%s): port 0 is not a listening port", i, s.Name))
			} else if o, dup := owner[p]; dup {
				errs = append(errs, fmt.Errorf("services[%d] (%s): port %d already belongs to %s", i, s.Name, p, o))
			}
			owner[p] = s.Name
		}
	}
	return errors.Join(errs...)
}
