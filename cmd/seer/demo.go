package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/seer-qos/seer/examples/socialnetwork"
	"github.com/seer-qos/seer/examples/threeservices"
)

// Demo applications `seer demo --app` runs.
const (
	appSocialNetwork = "socialnetwork"
	appThreeServices = "threeservices"
)

// demoOptions are the flags of `seer demo`.
type demoOptions struct {
	app        string
	collector  string
	rate       float64
	metrics    string
	admin      string
	faultEvery time.Duration
	faultFirst time.Duration
	faultFor   time.Duration
	faultRamp  time.Duration
	calibrate  time.Duration
}

func newDemoCommand() *cobra.Command {
	opts := demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run an instrumented Thrift demo application under open-loop load, with scheduled faults",
		Long: `demo runs a demo application whose services talk Thrift over loopback,
instrumented with instrumentation/thrifttracing, sends it open-loop (Poisson)
load, and exports the spans to a seerthrift receiver until interrupted.

--app socialnetwork (default): 21 services modelled on DeathStarBench's Social
Network (nginx, compose-post, text, user, timelines, social graph, memcached/
redis-like caches, mongodb-like storage), an end-to-end p99 QoS monitor, and a
fault (CPU hog, added delay, lock contention) injected every --fault-every on a
rotating service. Each fault grows linearly to its full magnitude over
--fault-ramp, as contention builds up in production, so that a predictor can
see it coming before the QoS violation (0: full magnitude at once). The admin
endpoint (--admin) lists and injects faults: GET/POST /faults (with an
optional "ramp"), DELETE /faults/{id}, GET /violations.

--app threeservices: the three-service example (frontend -> users, storage).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.app, "app", appSocialNetwork, "demo application: socialnetwork or threeservices")
	f.StringVar(&opts.collector, "collector", "localhost:6833", "host:port of the seerthrift receiver's Thrift TCP listener")
	f.Float64Var(&opts.rate, "rate", 100, "requests per second")
	f.StringVar(&opts.metrics, "metrics", "localhost:9464", "address to serve the demo's metrics on (/metrics); empty disables")
	f.StringVar(&opts.admin, "admin", "localhost:9465", "socialnetwork: address of the fault admin endpoint; empty disables")
	f.DurationVar(&opts.faultEvery, "fault-every", 2*time.Minute, "socialnetwork: time between scheduled faults; 0 disables the schedule")
	f.DurationVar(&opts.faultFirst, "fault-first", 40*time.Second, "socialnetwork: when the first scheduled fault starts (after --calibrate)")
	f.DurationVar(&opts.faultFor, "fault-duration", 30*time.Second, "socialnetwork: how long each scheduled fault acts")
	f.DurationVar(&opts.faultRamp, "fault-ramp", 15*time.Second, "socialnetwork: how long each scheduled fault grows linearly to its full magnitude (at most --fault-duration; the default is capped at half of it); 0 injects it at full magnitude at once")
	f.DurationVar(&opts.calibrate, "calibrate", 20*time.Second, "socialnetwork: watch fault-free load this long and raise QoS targets above this machine's noise; 0 keeps the defaults")
	return cmd
}

func runDemo(cmd *cobra.Command, opts demoOptions) error {
	if !(opts.rate > 0) {
		return fmt.Errorf("--rate must be positive, got %v", opts.rate)
	}
	if opts.app != appSocialNetwork && opts.app != appThreeServices {
		return fmt.Errorf("--app must be %s or %s, got %q", appSocialNetwork, appThreeServices, opts.app)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	out := cmd.OutOrStdout()

	if opts.metrics != "" {
		stop, addr, err := serveMetrics(cmd, reg, opts.metrics)
		if err != nil {
			return err
		}
		defer stop()
		fmt.Fprintf(out, "demo metrics on http://%s/metrics\n", addr)
	}
	fmt.Fprintf(out, "%s: sending %g requests/s, spans to %s\n", opts.app, opts.rate, opts.collector)

	if opts.app == appThreeServices {
		stats, err := threeservices.Run(cmd.Context(), threeservices.Config{
			CollectorEndpoint: opts.collector,
			Registerer:        reg,
		}, opts.rate)
		if stats != nil {
			fmt.Fprintln(out, stats)
		}
		return err
	}
	ramp := opts.scheduledRamp(cmd.Flags().Changed("fault-ramp"))
	return socialnetwork.Run(cmd.Context(), socialnetwork.Config{
		AppConfig: socialnetwork.AppConfig{CollectorEndpoint: opts.collector, Registerer: reg},
		Load:      socialnetwork.LoadConfig{Rate: opts.rate},
		QoS:       socialnetwork.QoSConfig{Calibrate: opts.calibrate},
		Faults: socialnetwork.SchedulerConfig{
			Every: opts.faultEvery, First: opts.faultFirst, Duration: opts.faultFor, Ramp: ramp,
		},
		AdminAddr: opts.admin,
		Logger:    slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)),
		OnStart: func(admin string) {
			if admin != "" {
				fmt.Fprintf(out, "faults: http://%s/faults, violations: http://%s/violations\n", admin, admin)
			}
		},
	})
}

// serveMetrics serves reg on addr until stop is called.
func serveMetrics(cmd *cobra.Command, reg *prometheus.Registry, addr string) (stop func(), bound net.Addr, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen for metrics on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(cmd.ErrOrStderr(), "seer demo: metrics server:", err)
		}
	}()
	return func() { _ = srv.Close() }, ln.Addr(), nil
}

// scheduledRamp is the ramp of scheduled faults: --fault-ramp as given, or
// by default 15 s but never more than half a fault's duration (itself
// capped by --fault-every), so that shorter schedules work without the
// flag.
func (o *demoOptions) scheduledRamp(explicit bool) time.Duration {
	if explicit {
		return o.faultRamp
	}
	d := o.faultFor
	if o.faultEvery > 0 {
		d = min(d, o.faultEvery)
	}
	return min(o.faultRamp, d/2)
}
