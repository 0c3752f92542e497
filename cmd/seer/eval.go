package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/seer-qos/seer/predictor"
)

// evalOptions are the flags of `seer eval`.
type evalOptions struct {
	model     string
	data      string
	json      bool
	minLead   time.Duration
	threshold float64
	backend   string
}

func newEvalCommand() *cobra.Command {
	o := evalOptions{}
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Score a model and the baselines on datasets",
		Long: `eval runs a model over every tick of one dataset (or of every dataset under
--data) and scores its warnings and culprit rankings against the ground truth,
next to four baselines on the same data: a utilization threshold, a
per-service latency threshold, a queue-depth threshold (thresholds calibrated
on the model's training data) and reactive detection (after onset).
Definitions: predictor/README.md.`,
		Example: `  seer eval --model /tmp/seer.model --data .cache/seerdata/test --json`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEval(cmd, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "", "model file written by seer train")
	f.StringVar(&o.data, "data", "", "dataset directory, or a directory of datasets")
	f.BoolVar(&o.json, "json", false, "print one JSON object")
	f.DurationVar(&o.minLead, "min-lead", 100*time.Millisecond, "least warning before onset that counts as anticipated")
	f.Float64Var(&o.threshold, "threshold", 0, "warning threshold on the violation probability (0: the model's)")
	f.StringVar(&o.backend, "backend", predictor.BackendAuto, "auto, xla or simplego")
	return cmd
}

func runEval(cmd *cobra.Command, o *evalOptions) error {
	if o.model == "" || o.data == "" {
		return fmt.Errorf("eval: --model and --data are required")
	}
	m, err := predictor.LoadModel(o.model)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	traces, err := predictor.LoadTraces(o.data)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	th := m.Card.Threshold
	if o.threshold > 0 {
		th = o.threshold
	}
	rep, err := predictor.EvaluateModel(m, traces, predictor.EvalOptions{
		Backend: o.backend, MinLeadNs: int64(o.minLead), Threshold: th})
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	w := cmd.OutOrStdout()
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(rep)
	}
	printReport(w, rep)
	return nil
}

// printReport prints a report as a table: the model, then the baselines.
func printReport(w io.Writer, r *predictor.Report) {
	fmt.Fprintf(w, "%d traces, %d violations, horizon %.0f ms, min lead %.0f ms, threshold %.3f\n",
		r.Traces, r.Violations, r.HorizonMs, r.MinLeadMs, r.Threshold)
	fmt.Fprintf(w, "%-24s %8s %7s %7s %7s %7s %7s %9s\n", "detector", "anticip", "recall", "prec", "fpr", "top1", "top3", "lead p50")
	row := func(name string, m *predictor.Metrics) {
		fmt.Fprintf(w, "%-24s %4d/%-4d %6.1f%% %6.1f%% %6.2f%% %6.1f%% %6.1f%% %7.0fms\n", name, m.Anticipated,
			m.Violations, 100*m.Recall, 100*m.Precision, 100*m.FalsePositiveRate, 100*m.CulpritTop1,
			100*m.CulpritTop3, m.LeadMsP50)
	}
	row("seer", &r.Metrics)
	for _, n := range predictor.BaselineNames {
		if b := r.Baselines[n]; b != nil {
			row(n, b)
		}
	}
	kinds := make([]string, 0, len(r.ByKind))
	for k := range r.ByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		row("  seer/"+k, r.ByKind[k])
	}
}
