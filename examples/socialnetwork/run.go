package socialnetwork

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"time"
)

// Config configures the whole demo: services, load, QoS monitor, fault
// schedule and admin endpoint.
type Config struct {
	AppConfig
	// Load is the open-loop load; Rate is required.
	Load LoadConfig
	// QoS is the end-to-end QoS monitor.
	QoS QoSConfig
	// Faults is the fault schedule; Faults.Every 0 injects none (the admin
	// endpoint still can).
	Faults SchedulerConfig
	// AdminAddr is the host:port of the admin endpoint (AdminHandler);
	// empty disables it.
	AdminAddr string
	// Logger gets the fault and violation log lines; default
	// slog.Default().
	Logger *slog.Logger
	// OnStart, if set, is called once everything is up, with the admin
	// endpoint's address ("" when disabled).
	OnStart func(adminAddr string)
}

// Run starts the services against cfg.CollectorEndpoint, the admin
// endpoint, the QoS monitor and the fault scheduler, registers the demo's
// metrics (seer_demo_*) and the instrumentation's with cfg.Registerer, and
// sends open-loop load until ctx ends; then it ends the faults and shuts
// everything down, flushing the spans (for at most 10 seconds).
func Run(ctx context.Context, cfg Config) (err error) {
	if !(cfg.Load.Rate > 0) {
		return fmt.Errorf("social network: load rate must be positive, got %v", cfg.Load.Rate)
	}
	for t := range cfg.Load.Mix {
		if !knownType(t) {
			return fmt.Errorf("social network: unknown request type %q in the mix", t)
		}
	}
	if first := cmp.Or(cfg.Faults.First, cfg.Faults.Every/2); cfg.Faults.Every > 0 && first <= cfg.QoS.Calibrate {
		return fmt.Errorf("social network: the first fault (at %v) must come after the QoS calibration (%v)", first, cfg.QoS.Calibrate)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	metrics, err := NewMetrics(cfg.Registerer)
	if err != nil {
		return err
	}
	if cfg.Registerer != nil {
		defer metrics.unregister(cfg.Registerer)
	}
	app, err := Start(ctx, cfg.AppConfig)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err = errors.Join(err, app.Shutdown(sctx))
	}()
	injector := NewInjector(app, metrics, log)
	defer injector.Close()
	monitor, err := NewMonitor(cfg.QoS, metrics, log, injector.Faults)
	if err != nil {
		return err
	}
	scheduler, err := NewScheduler(cfg.Faults, injector, log)
	if err != nil {
		return err
	}
	gen, err := NewGenerator(cfg.Load, app.NewClient().Sender(), monitor.Observe)
	if err != nil {
		return err
	}

	adminAddr := ""
	if cfg.AdminAddr != "" {
		ln, err := net.Listen("tcp", cfg.AdminAddr)
		if err != nil {
			return fmt.Errorf("listen for the admin endpoint on %s: %w", cfg.AdminAddr, err)
		}
		adminAddr = ln.Addr().String()
		srv := &http.Server{Handler: AdminHandler(injector, monitor), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("admin endpoint", "error", err)
			}
		}()
		defer srv.Close()
	}

	bg, stopBG := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	go func() { monitor.Run(bg); done <- struct{}{} }()
	go func() { scheduler.Run(bg); done <- struct{}{} }()
	defer func() { stopBG(); <-done; <-done }()

	log.Info("social network demo running", "services", len(Services), "rate", cfg.Load.Rate,
		"collector", app.cfg.CollectorEndpoint, "admin", adminAddr)
	if cfg.OnStart != nil {
		cfg.OnStart(adminAddr)
	}
	return gen.Run(ctx, 0)
}

func knownType(t string) bool {
	for _, k := range RequestTypes {
		if k == t {
			return true
		}
	}
	return false
}

// Sender returns a Sender of requests for random users through c.
func (c *Client) Sender() Sender {
	return func(ctx context.Context, reqType string) error {
		return c.Do(ctx, reqType, 1+rand.Int64N(users))
	}
}
