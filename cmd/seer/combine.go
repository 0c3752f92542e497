package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/seer-qos/seer/predictor"
)

// combineOptions are the flags of `seer combine`.
type combineOptions struct {
	data    string
	out     string
	backend string
}

func newCombineCommand() *cobra.Command {
	o := combineOptions{backend: predictor.BackendAuto}
	cmd := &cobra.Command{
		Use:   "combine --data DIR --out MODEL MEMBER MEMBER...",
		Short: "Make one ensemble model of models trained on the same split",
		Long: `combine joins models trained by seer train on the same data with the same --seed
and different --init-seed into one model whose networks run as one graph and
whose probabilities are averaged: measured on held-out scenarios it ranked
culprits about one point better than its members' mean (not better than its
best member), and it costs their inference time together. The warning threshold is set again,
and the validation figures recomputed, on the members' validation datasets, so
--data must be the directory they were trained on, named the same way. It
writes MODEL and MODEL.card.json like seer train.`,
		Example: `  for i in 1 2 3 4; do seer train --data D --out m$i --seed 1 --init-seed $i; done
  seer combine --data D --out seer.model m1 m2 m3 m4`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCombine(cmd, &o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.data, "data", "", "the members' training data: a dataset directory, or a directory of datasets")
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
	m, err := predictor.Combine(members, traces, o.backend)
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
