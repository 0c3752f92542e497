package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seer-qos/seer/internal/seerstore"
)

func TestKeyCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "record.key")
	out, err := runSeer(t, "key", "--out", path)
	require.NoError(t, err)
	assert.Contains(t, out, path)
	key, err := seerstore.LoadKey(path)
	require.NoError(t, err)
	assert.Len(t, key, seerstore.KeySize)
	_, err = runSeer(t, "key", "--out", path)
	require.Error(t, err, "an existing key replaced")
	_, err = runSeer(t, "key")
	require.ErrorContains(t, err, "--out is required")
}
