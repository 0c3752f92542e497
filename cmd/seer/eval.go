package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/seer-qos/seer/dataset"
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
	plot      string
	panels    int
	faults    bool
	kinds     string
	window    time.Duration
}

func newEvalCommand() *cobra.Command {
	o := evalOptions{}
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Score a model and the baselines on datasets",
		Long: `eval runs a model over every tick of one dataset (or of every dataset under
--data) and scores its warnings and culprit rankings against the ground truth,
next to five baselines on the same data: a utilization threshold, a
per-service latency threshold, a queue-depth threshold, a network-time
threshold (thresholds calibrated on the model's training data) and reactive
detection (after onset).
Definitions: predictor/README.md.`,
		Example: `  seer eval --model /tmp/seer.model --data .cache/seerdata/test --json`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEval(cmd, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "", "model file written by seer train or seer combine; several, comma-separated, are averaged tick by tick, offline (seer combine --calibration makes one servable model of them)")
	f.StringVar(&o.data, "data", "", "dataset directory, or a directory of datasets")
	f.BoolVar(&o.json, "json", false, "print one JSON object")
	f.DurationVar(&o.minLead, "min-lead", 100*time.Millisecond, "least warning before onset that counts as anticipated")
	f.Float64Var(&o.threshold, "threshold", 0, "warning threshold on the violation probability (0: the model's)")
	f.StringVar(&o.backend, "backend", predictor.BackendAuto, "auto, xla, simplego, or xla:PLUGIN for another PJRT plugin (xla:cuda)")
	f.StringVar(&o.plot, "plot", "", "also write a PNG: per fault, the culprit's probability, the end-to-end p99 and the violations on one timeline")
	f.IntVar(&o.panels, "plot-panels", predictor.DefaultPlotPanels, "most faults (panels) in the --plot PNG")
	f.BoolVar(&o.faults, "faults", false, "rank culprits at fault injection instead of scoring violations (data without QoS targets: replays)")
	f.StringVar(&o.kinds, "fault-kinds", "", "the fault kinds ranked (--faults) and plotted (--plot), comma-separated (default all)")
	f.DurationVar(&o.window, "rank-window", time.Duration(predictor.DefaultFaultRankWindowNs), "with --faults: rank by the mean score over this long after injection")
	return cmd
}

func runEval(cmd *cobra.Command, o *evalOptions) error {
	if o.model == "" || o.data == "" {
		return fmt.Errorf("eval: --model and --data are required")
	}
	traces, err := predictor.LoadTraces(o.data)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	m, preds, th, err := predictModels(strings.Split(o.model, ","), traces, o.backend)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if o.threshold > 0 {
		th = o.threshold
	}
	if o.plot != "" {
		if err := writePlot(cmd, o, traces, preds, th); err != nil {
			return err
		}
	}
	w := cmd.OutOrStdout()
	var (
		out  any
		show func()
	)
	if o.faults {
		cfg := predictor.FaultRankConfig{WindowNs: int64(o.window), FirstTick: m.Card.Shape.Window - 1, Kinds: kindList(o.kinds)}
		dets := make([]*predictor.Detection, len(traces))
		for i, tr := range traces {
			dets[i] = preds[i].Detect(tr, th)
		}
		fr := predictor.RankFaults(traces, dets, m.Baselines, cfg)
		out, show = fr, func() { printFaultRanks(w, fr) }
	} else {
		rep := predictor.EvaluatePredictions(m, traces, preds, predictor.EvalOptions{
			MinLeadNs: int64(o.minLead), Threshold: th})
		out, show = rep, func() { printReport(w, rep) }
	}
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(out)
	}
	show()
	return nil
}

// predictModels runs each model over the traces. With several (--model
// a,b,...), the predictions are averaged tick by tick
// (predictor.AveragePredictions), the threshold is the mean of the models'
// and the first model's baselines, window and horizon score them; the
// models must predict the same services with the same window, horizon and
// tick.
func predictModels(paths []string, traces []*predictor.Trace, backend string) (*predictor.Model, []*predictor.Predictions, float64, error) {
	var (
		first    *predictor.Model
		perModel [][]*predictor.Predictions
		th       float64
	)
	for _, path := range paths {
		m, err := predictor.LoadModel(path)
		if err != nil {
			return nil, nil, 0, err
		}
		if first == nil {
			first = m
		} else if m.Card.Shape.Window != first.Card.Shape.Window || m.Card.HorizonMs != first.Card.HorizonMs || m.Card.TickMs != first.Card.TickMs {
			return nil, nil, 0, fmt.Errorf("model %s: window, horizon or tick differ from %s's", path, paths[0])
		}
		preds, err := predictor.PredictTraces(m, traces, backend)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("model %s: %w", path, err)
		}
		perModel = append(perModel, preds)
		th += m.Card.Threshold / float64(len(paths))
	}
	if len(perModel) == 1 {
		return first, perModel[0], th, nil
	}
	avg, err := predictor.AveragePredictions(perModel)
	return first, avg, th, err
}

// kindList splits --fault-kinds; nil (all kinds) when empty.
func kindList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// printFaultRanks prints a fault-ranking report: per detector, then per
// source fault type, top-1 and top-3 over the ranked faults.
func printFaultRanks(w io.Writer, r *predictor.FaultRankReport) {
	kinds := "all kinds"
	if len(r.Kinds) > 0 {
		kinds = strings.Join(r.Kinds, ",")
	}
	fmt.Fprintf(w, "%d traces, %d faults (%s), ranked over %.0f ms after injection, %d skipped\n",
		r.Traces, r.Seer.Faults, kinds, r.WindowMs, r.Skipped)
	fmt.Fprintf(w, "%-40s %7s %13s %13s\n", "detector", "faults", "top1", "top3")
	row := func(name string, m *predictor.RankMetrics) {
		fmt.Fprintf(w, "%-40s %7d %3d (%6.2f%%) %3d (%6.2f%%)\n", name, m.Faults, m.Top1, 100*m.Top1R, m.Top3, 100*m.Top3R)
	}
	rows := func(name string, m *predictor.RankMetrics) {
		row(name, m)
		for _, t := range slices.Sorted(maps.Keys(m.ByType)) {
			row("  "+name+"/"+t, m.ByType[t])
		}
	}
	rows("seer", r.Seer)
	for _, n := range predictor.FaultRankBaselines {
		if b := r.Baselines[n]; b != nil {
			rows(n, b)
		}
	}
}

// writePlot writes the --plot PNG; the note goes to stderr so that --json
// stays one JSON object on stdout.
func writePlot(cmd *cobra.Command, o *evalOptions, traces []*predictor.Trace, preds []*predictor.Predictions, th float64) error {
	qos := make([][]dataset.QoSPoint, len(traces))
	for i, tr := range traces {
		q, err := predictor.LoadQoS(tr)
		if err != nil {
			return fmt.Errorf("eval: plot: %w", err)
		}
		qos[i] = q
	}
	f, err := os.Create(o.plot)
	if err != nil {
		return fmt.Errorf("eval: plot: %w", err)
	}
	res, err := predictor.PlotFaults(f, traces, preds, qos, predictor.PlotOptions{Threshold: th, MaxPanels: o.panels, Kinds: kindList(o.kinds)})
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("eval: plot: %w", cerr)
	}
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "plot %s: %d of %d faults\n", o.plot, res.Panels, res.Faults)
	return nil
}

// printReport prints a report as a table: the model, then the baselines.
func printReport(w io.Writer, r *predictor.Report) {
	fmt.Fprintf(w, "%d traces, %d violations, horizon %.0f ms, min lead %.0f ms, threshold %.3f\n",
		r.Traces, r.Violations, r.HorizonMs, r.MinLeadMs, r.Threshold)
	fmt.Fprintf(w, "%-40s %8s %7s %8s %7s %7s %7s %7s %9s\n", "detector", "anticip", "recall", "standing", "prec", "fpr", "top1", "top3", "lead p50")
	row := func(name string, m *predictor.Metrics) {
		fmt.Fprintf(w, "%-40s %4d/%-4d %6.1f%% %7.1f%% %6.1f%% %6.2f%% %6.1f%% %6.1f%% %7.0fms\n", name, m.Anticipated,
			m.Violations, 100*m.Recall, 100*m.RecallStanding, 100*m.Precision, 100*m.FalsePositiveRate, 100*m.CulpritTop1,
			100*m.CulpritTop3, m.LeadMsP50)
	}
	row("seer", &r.Metrics)
	for _, n := range predictor.BaselineNames {
		if b := r.Baselines[n]; b != nil {
			row(n, b)
		}
	}
	for _, n := range predictor.BaselineNames {
		// Seer at the baseline's false-positive rate (threshold picked on
		// these traces): seer@latency is Seer against latency_threshold.
		if m := r.MatchedFPR[n]; m != nil {
			row(fmt.Sprintf("seer@%s (%g)", strings.TrimSuffix(n, "_threshold"), m.Threshold), m.Metrics)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.ByKind)) {
		row("  seer/"+k, r.ByKind[k])
	}
	if r.ByOnset[predictor.OnsetAfterLoadStep] == nil {
		return // no episode began right after a load step: the split says nothing
	}
	// Episodes that began less than the min lead after the simulated load
	// stepped up cannot be foreseen by any detector; each detector's
	// episode figures without and with them.
	for _, o := range []string{predictor.OnsetOther, predictor.OnsetAfterLoadStep} {
		if m := r.ByOnset[o]; m != nil {
			row("  seer/"+o, m)
		}
		for _, n := range predictor.BaselineNames {
			if b := r.Baselines[n]; b != nil && b.ByOnset[o] != nil {
				row("  "+n+"/"+o, b.ByOnset[o])
			}
		}
	}
}
