package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/seer-qos/seer/predictor"
)

// combineOptions are the flags of `seer combine`.
type combineOptions struct {
	data        string
	calibration string
	out         string
	backend     string
}

func newCombineCommand() *cobra.Command {
	o := combineOptions{backend: predictor.BackendAuto}
	cmd := &cobra.Command{
		Use:   "combine --data DIR [--calibration DIR] --out MODEL MEMBER MEMBER...",
		Short: "Make one ensemble model of several trained models",
		Long: `combine joins models trained by seer train on the same data into one model
whose networks run as one graph and whose probabilities are averaged; it costs
their inference time together. It writes MODEL and MODEL.card.json like seer
train.

Members of one split (the same --seed, different --init-seed) share their
feature scaling and validation datasets: the warning threshold is set again,
and the validation figures recomputed, on those, so --data must be the
directory they were trained on, named the same way. Measured on held-out
scenarios, such an ensemble ranked culprits about one point better than its
members' mean, not better than its best member.

Members of different splits (different --seed) each keep their own feature
scaling and need --calibration: datasets none of them trained or validated
on, where the threshold is set and the validation figures computed; the
baselines are calibrated on the union of their training datasets, found in
--data. Averaging over splits is what ranked culprits best (predictor/README.md).`,
		Example: `  for i in 1 2 3 4; do seer train --data D --out m$i --seed 1 --init-seed $i; done
  seer combine --data D --out seer.model m1 m2 m3 m4

  for s in 1 2 3 4; do seer train --data D --out s$s --seed $s; done
  seer combine --data D --calibration C --out seer.model s1 s2 s3 s4`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCombine(cmd, &o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.data, "data", "", "the members' training data: a dataset directory, or a directory of datasets")
	f.StringVar(&o.calibration, "calibration", "", "datasets no member trained or validated on, to set the threshold on (required for members of different splits)")
	f.StringVarP(&o.out, "out", "o", "", "model file to write (the card goes to OUT.card.json)")
	f.StringVar(&o.backend, "backend", o.backend, "auto, xla, simplego, or xla:PLUGIN")
	return cmd
}

func runCombine(cmd *cobra.Command, o *combineOptions, paths []string) error {
	if o.data == "" || o.out == "" {
		return fmt.Errorf("combine: --data and --out are required")
	}
	var members []*predictor.Model
	for _, p := range paths {
		m, err := predictor.LoadModel(p)
		if err != nil {
			return fmt.Errorf("combine: %w", err)
		}
		members = append(members, m)
	}
	traces, err := predictor.LoadTraces(o.data)
	if err != nil {
		return fmt.Errorf("combine: %w", err)
	}
	var calibration []*predictor.Trace
	if o.calibration != "" {
		if calibration, err = predictor.LoadTraces(o.calibration); err != nil {
			return fmt.Errorf("combine: calibration: %w", err)
		}
	}
	m, err := predictor.Combine(members, traces, calibration, o.backend)
	if err != nil {
		return fmt.Errorf("combine: %w", err)
	}
	if err := m.Save(o.out); err != nil {
		return fmt.Errorf("combine: %w", err)
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "model %s: %d members, threshold %.3f\n", o.out, len(members), m.Card.Threshold)
	printReport(w, m.Card.Validation)
	return nil
}
