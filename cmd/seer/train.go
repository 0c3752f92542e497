package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/seer-qos/seer/predictor"
)

// trainOptions are the flags of `seer train`.
type trainOptions struct {
	data     string
	out      string
	features string
	horizon  time.Duration
	minLead  time.Duration
	cfg      predictor.TrainConfig
	quiet    bool
	labels   string
	kinds    string
}

func newTrainCommand() *cobra.Command {
	o := trainOptions{cfg: predictor.DefaultTrainConfig()}
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train the Seer predictor on datasets; write the model and its card",
		Long: `train fits the Seer network (convolution over services x time, LSTM, per-service
culprit and end-to-end violation probabilities) on one dataset (dataset/FORMAT.md)
or on every dataset directly under --data. Whole datasets are split into training
and validation (seeded); training stops early when the validation loss stops
improving, and the best epoch is kept. It writes MODEL and MODEL.card.json
(topology fingerprint, services, features, validation figures against the
baselines). The same seed and data give the same model.

Data without QoS targets (replays) has no violations to learn from: --labels
faults makes each fault's active interval a violation caused by its service
(in memory; --label-kinds picks the kinds), so the model learns to anticipate
faults and name their service. Never train this way on data you then
evaluate on: the labels are that data's ground truth.

Backends: auto (XLA through the CPU PJRT plugin when it loads, else simplego),
xla, simplego. See predictor/README.md.`,
		Example: `  seer train --data .cache/seerdata/train --out /tmp/seer.model
  seer train --data DIR --out M --features depth,latency --epochs 10 --seed 2
  seer train --data .cache/boutique/seg/2022-08-22/train --out M --labels faults --label-kinds cpu,network_delay`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTrain(cmd, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.data, "data", "", "dataset directory, or a directory of datasets")
	f.StringVarP(&o.out, "out", "o", "", "model file to write (the card goes to OUT.card.json)")
	f.StringVar(&o.features, "features", strings.Join(o.cfg.Features, ","), "input features: "+strings.Join(predictor.FeatureNames, ", "))
	f.DurationVar(&o.horizon, "horizon", time.Duration(o.cfg.HorizonNs), "how far ahead violations are predicted")
	f.DurationVar(&o.minLead, "min-lead", time.Duration(o.cfg.MinLeadNs), "least warning that counts as anticipation (validation figures)")
	f.IntVar(&o.cfg.Window, "window", o.cfg.Window, "ticks per input window")
	f.IntVar(&o.cfg.Channels, "channels", o.cfg.Channels, "convolution channels")
	f.IntVar(&o.cfg.Hidden, "hidden", o.cfg.Hidden, "LSTM units")
	f.Uint64Var(&o.cfg.Seed, "seed", o.cfg.Seed, "seed of the split, initialisation and shuffling")
	f.Uint64Var(&o.cfg.InitSeed, "init-seed", 0, "seed of the initialisation and shuffling when it differs from --seed (members of one ensemble: same --seed, see seer combine)")
	f.IntVar(&o.cfg.Epochs, "epochs", o.cfg.Epochs, "most epochs")
	f.IntVar(&o.cfg.Patience, "patience", o.cfg.Patience, "epochs without a better validation loss before stopping")
	f.IntVar(&o.cfg.Batch, "batch", o.cfg.Batch, "batch size")
	f.Float64Var(&o.cfg.LR, "lr", o.cfg.LR, "Adam learning rate")
	f.Float64Var(&o.cfg.EMA, "ema", o.cfg.EMA, "decay per step of the moving average of the weights that validation scores and the model keeps (0: the raw weights)")
	f.Float64Var(&o.cfg.ValFrac, "val", o.cfg.ValFrac, "share of datasets held out for validation")
	f.IntVar(&o.cfg.Stride, "stride", o.cfg.Stride, "train on every n-th tick (violation ticks are always kept)")
	f.Float64Var(&o.cfg.MaxFPR, "max-fpr", o.cfg.MaxFPR, "false-positive budget for the warning threshold and the baselines")
	f.StringVar(&o.cfg.Backend, "backend", o.cfg.Backend, "auto, xla, simplego, or xla:PLUGIN for another PJRT plugin (xla:cuda)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress bar")
	f.StringVar(&o.labels, "labels", "violations", "training labels: violations (violations.json), or faults (each fault's active interval, for data without QoS targets such as replays)")
	f.StringVar(&o.kinds, "label-kinds", "", "with --labels faults: the fault kinds that make labels, comma-separated (default all)")
	return cmd
}

func runTrain(cmd *cobra.Command, o *trainOptions) error {
	if o.data == "" || o.out == "" {
		return fmt.Errorf("train: --data and --out are required")
	}
	switch {
	case o.labels != "violations" && o.labels != "faults":
		return fmt.Errorf("train: --labels is %q, want violations or faults", o.labels)
	case o.kinds != "" && o.labels != "faults":
		return fmt.Errorf("train: --label-kinds needs --labels faults")
	}
	o.cfg.Features = strings.Split(o.features, ",")
	o.cfg.HorizonNs, o.cfg.MinLeadNs = int64(o.horizon), int64(o.minLead)
	if err := o.cfg.Validate(); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if !o.quiet {
		o.cfg.Progress = cmd.ErrOrStderr()
	}
	traces, err := predictor.LoadTraces(o.data)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if o.labels == "faults" {
		o.cfg.LabelKinds = append([]string{}, kindList(o.kinds)...) // not nil: recorded in the card
		if predictor.LabelFaults(traces, o.cfg.LabelKinds) == 0 {
			return fmt.Errorf("train: --labels faults: no fault of kinds %q in %s", o.kinds, o.data)
		}
	}
	m, err := predictor.Train(cmd.Context(), traces, o.cfg)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if err := m.Save(o.out); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	c := m.Card
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "model %s (%d services, features %s, backend %s", o.out, c.Shape.Services,
		strings.Join(c.Features.Features, ","), c.Train.Backend.Name)
	if c.Train.Backend.Fallback != "" {
		fmt.Fprintf(w, ", fell back: %s", c.Train.Backend.Fallback)
	}
	fmt.Fprintf(w, ")\ntrained %d epochs (best %d) on %d windows at %.0f samples/s; threshold %.3f\n",
		c.Train.Epochs, c.Train.BestEpoch, c.Train.Samples, c.Train.SamplesPerSec, c.Threshold)
	if v := c.Validation; v != nil {
		printReport(w, v)
	}
	return nil
}
