package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/seer-qos/seer/internal/seerstore"
)

func newKeyCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "key --out FILE",
		Short: "Make a record key: what the storing exporters seal spans with (encryption.key_file)",
		Long: `key writes a new random record key to FILE (mode 600; an existing file is
never replaced, as its key may seal stored spans). The seercassandra and
seerlocal exporters seal every stored span with it (XChaCha20-Poly1305); seer
dataset export --key-file reads them back. Keep it apart from the data, and
give every Collector that writes to one keyspace the same key.`,
		Example: `  seer key --out /etc/seer/record.key`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out is required")
			}
			if _, err := seerstore.CreateKey(out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "record key written to %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the key to (must not exist)")
	return cmd
}
