package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/seer-qos/seer/examples/threeservices"
)

// demoOptions are the flags of `seer demo`.
type demoOptions struct {
	collector string
	rate      float64
	metrics   string
}

func newDemoCommand() *cobra.Command {
	opts := demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the example Thrift services under open-loop load, tracing them to a seerthrift receiver",
		Long: `demo starts the three example services (frontend calls users and storage;
users calls storage), instrumented with instrumentation/thrifttracing, sends
them Poisson (open-loop) load, and exports their spans to a seerthrift
receiver until interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.collector, "collector", "localhost:6833", "host:port of the seerthrift receiver's Thrift TCP listener")
	cmd.Flags().Float64Var(&opts.rate, "rate", 200, "requests per second sent to the frontend")
	cmd.Flags().StringVar(&opts.metrics, "metrics", "localhost:9464", "address to serve the services' instrumentation metrics on (/metrics); empty disables")
	return cmd
}

func runDemo(cmd *cobra.Command, opts demoOptions) error {
	if opts.rate <= 0 {
		return fmt.Errorf("--rate must be positive, got %v", opts.rate)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	ctx := cmd.Context()
	if opts.metrics != "" {
		ln, err := net.Listen("tcp", opts.metrics)
		if err != nil {
			return fmt.Errorf("listen for metrics on %s: %w", opts.metrics, err)
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
		defer srv.Close()
		fmt.Fprintf(cmd.OutOrStdout(), "instrumentation metrics on http://%s/metrics\n", ln.Addr())
	}

	fmt.Fprintf(cmd.OutOrStdout(), "sending %.0f requests/s through frontend -> users, storage; spans to %s\n", opts.rate, opts.collector)
	stats, err := threeservices.Run(ctx, threeservices.Config{
		CollectorEndpoint: opts.collector,
		Registerer:        reg,
	}, opts.rate)
	if stats != nil {
		fmt.Fprintln(cmd.OutOrStdout(), stats)
	}
	return err
}
