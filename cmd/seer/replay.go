package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/replay/nezha"
	"github.com/seer-qos/seer/sim/export"
)

// replayOptions are the flags of `seer replay`.
type replayOptions struct {
	format        string
	out           string
	spans         bool
	overwrite     bool
	otlp          string
	speed         float64
	tick          time.Duration
	faultDuration time.Duration
	from, to      string
	strict        bool
	partialFaults bool
}

func newReplayCommand() *cobra.Command {
	o := replayOptions{}
	cmd := &cobra.Command{
		Use:   "replay --format nezha DIR",
		Short: "Replay recorded traces with their fault lists into a dataset and/or to a collector",
		Long: `replay reads real traces and the faults injected while they were recorded,
works out span kinds, services and the call graph, and writes a Seer dataset
(dataset/FORMAT.md: the queue-depth series the queuedepth processor computes,
the faults as ground truth, optionally the spans) and/or sends the spans to
an OTLP/HTTP endpoint, in real time (--speed 1), faster, or as fast as
possible (--speed 0). Series come from span timestamps only: the speed never
changes them.

Formats: nezha (the Nezha data sets: DIR is a root of day directories, or one
day, with fault_list.json and trace/HH_MM_trace.csv.gz; see package
replay/nezha for how span kinds are derived).

Bad input (malformed rows, bad timestamps, unknown parent IDs, corrupt gzip,
bad fault entries) is counted and reported, and the rest is replayed;
--strict makes any of it an error.`,
		Example: `  seer replay --format nezha ../shared/datasets/nezha-online-boutique --out /tmp/boutique
  seer replay --format nezha ../shared/datasets/nezha-online-boutique/2022-08-22 --otlp http://localhost:4318 --speed 10
  seer replay --format nezha DIR --from 2022-08-22T04:00:00Z --to 2022-08-22T04:05:00Z --out /tmp/one-fault --spans`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runReplay(cmd, o, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "", "input format: nezha")
	f.StringVarP(&o.out, "out", "o", "", "dataset directory to write")
	f.BoolVar(&o.spans, "spans", false, "also write spans.otlp into the dataset")
	f.BoolVar(&o.overwrite, "overwrite", false, "replace an existing dataset in --out")
	f.StringVar(&o.otlp, "otlp", "", "send spans to this OTLP/HTTP endpoint, e.g. http://localhost:4318")
	f.Float64Var(&o.speed, "speed", 1, "with --otlp: event seconds per wall second (0: as fast as possible); gaps between recorded minutes are skipped")
	f.DurationVar(&o.tick, "tick", 100*time.Millisecond, "series period")
	f.DurationVar(&o.faultDuration, "fault-duration", time.Minute, "duration written for each fault (the fault lists give injection times only)")
	f.StringVar(&o.from, "from", "", "replay only trace minutes and faults from this time on (RFC 3339)")
	f.StringVar(&o.to, "to", "", "replay only trace minutes and faults before this time (RFC 3339)")
	f.BoolVar(&o.partialFaults, "partial-faults", false, "also write faults with spans in only part of [injection-30s, injection+60s) to the dataset")
	f.BoolVar(&o.strict, "strict", false, "fail when the input has any problem (bad rows, unknown parents, corrupt files, bad faults)")
	_ = cmd.MarkFlagRequired("format")
	return cmd
}

func runReplay(cmd *cobra.Command, o replayOptions, dir string) error {
	if o.format != "nezha" {
		return fmt.Errorf("--format %q: supported formats: nezha", o.format)
	}
	if o.out == "" && o.otlp == "" {
		return errors.New("nothing to do: give --out or --otlp")
	}
	if o.spans && o.out == "" {
		return errors.New("--spans needs --out")
	}
	cfg := nezha.Config{Context: cmd.Context(), Dir: dir, Tick: o.tick, FaultDuration: o.faultDuration,
		Out: o.out, Spans: o.spans, Generator: "seer replay " + version, Speed: o.speed, PartialFaults: o.partialFaults}
	var err error
	if cfg.From, err = parseTimeFlag("from", o.from); err != nil {
		return err
	}
	if cfg.To, err = parseTimeFlag("to", o.to); err != nil {
		return err
	}
	if o.otlp != "" {
		cfg.Send = export.NewOTLPHTTP(o.otlp).Send
	}
	if o.out != "" && o.overwrite {
		if err := dataset.Remove(o.out); err != nil {
			return err
		}
	}
	res, err := nezha.Replay(cfg)
	if res != nil {
		printReplay(cmd.OutOrStdout(), res, o.out)
	}
	if err != nil {
		return err
	}
	if n := res.Stats.Problems(); o.strict && n > 0 {
		return fmt.Errorf("--strict: %d input problems", n)
	}
	return nil
}

func parseTimeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s %q: want RFC 3339, e.g. 2022-08-22T04:00:00Z: %w", name, v, err)
	}
	return t, nil
}

func printReplay(w io.Writer, res *nezha.Result, out string) {
	st := res.Stats
	fmt.Fprintf(w, "replayed %v of days %v: %d spans (%d server, %d client, %d internal) from %d files in %v: %.0f spans per second\n",
		time.Duration(res.EndNs-res.StartNs).Round(time.Second), res.Days, st.Spans, st.Server, st.Client, st.Internal, st.Files,
		res.Wall.Round(time.Millisecond), float64(st.Spans)/max(res.Wall.Seconds(), 1e-9))
	fmt.Fprintf(w, "rows %d: duplicates %d, malformed %d, bad timestamps %d; unknown parents %d; corrupt files %d; bad faults %d, fault warnings %d; ignored files %d\n",
		st.Rows, st.Duplicates, st.MalformedRows, st.BadTimestamps, st.UnknownParents, st.CorruptFiles, st.BadFaults, st.FaultWarnings, st.IgnoredFiles)
	fmt.Fprintf(w, "series: %d spans accepted, %d late, %d duplicates, %d invalid; %d ticks\n",
		res.Series.Accepted, res.Series.LateDropped, res.Series.Duplicates, res.Series.Invalid, res.Series.Ticks)
	fmt.Fprintf(w, "services %d:", len(res.Services))
	for _, s := range res.Services {
		fmt.Fprintf(w, " %s%v", s.Name, s.Instances)
	}
	fmt.Fprintf(w, "\ncall graph, %d edges:\n", len(res.Edges))
	for _, e := range res.Edges {
		fmt.Fprintf(w, "  %s -> %s (%d calls)\n", e.From, e.To, e.Calls)
	}
	full, traced, byFiles := nezha.CountCoverage(res.Faults)
	fmt.Fprintf(w, "faults %d: %d with spans in every 10 s of [injection-30s, injection+60s), %d with some spans there, %d by file names; %d without traces\n",
		len(res.Faults), full, traced, byFiles, len(res.Faults)-traced)
	for _, f := range res.Faults {
		state := "full"
		switch {
		case !f.Traced():
			state = "NO TRACES"
		case !f.Full():
			state = "partial"
		}
		fmt.Fprintf(w, "  %s %-22s %-15s %d/%d buckets, %6d spans, files %-5v %s\n", f.At.Format("2006-01-02 15:04:05"),
			f.Service, f.Type, f.Buckets, nezha.NumBuckets, f.Spans, f.ByFiles, state)
	}
	if len(res.Problems) > 0 {
		fmt.Fprintf(w, "input problems (%d shown, %d more):\n", len(res.Problems), res.ProblemsOmitted)
		for _, p := range res.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if out != "" {
		fmt.Fprintf(w, "dataset written to %s\n", out)
	}
}
