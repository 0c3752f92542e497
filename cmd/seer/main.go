// Command seer is Seer's command line: the example application today, and the
// simulator, replay, training and evaluation tools as they land. The
// collector itself is otelcol-seer.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "seer:", err)
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "seer",
		Short:         "Seer anticipates QoS violations in microservices from RPC-level traces",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDemoCommand())
	root.AddCommand(newSimCommand())
	root.AddCommand(newReplayCommand())
	root.AddCommand(newTrainCommand())
	root.AddCommand(newCombineCommand())
	root.AddCommand(newEvalCommand())
	root.AddCommand(newDatasetCommand())
	root.AddCommand(newKeyCommand())
	return root
}
