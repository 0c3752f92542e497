package seerstore

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testSealer(t testing.TB, fill byte) *Sealer {
	t.Helper()
	s, err := NewSealer(bytes.Repeat([]byte{fill}, KeySize))
	require.NoError(t, err)
	return s
}

// TestSealer: a sealed record opens with its key only, unchanged; any change
// to the sealed bytes is detected; the same record seals differently each
// time (a fresh nonce).
func TestSealer(t *testing.T) {
	s, other := testSealer(t, 1), testSealer(t, 2)
	sp := Span{TraceID: TraceID{1}, SpanID: SpanID{2}, Service: "frontend", Name: "GET", StatusMessage: "secret", StartNs: 5, EndNs: 9,
		Raw: []byte("raw otlp")}
	sealed := s.SealRecord(&sp, true)
	assert.NotContains(t, string(sealed), "secret")
	row := TraceRow(sp.TraceID, sp.SpanID)
	got, err := s.OpenRecord(sealed, row)
	require.NoError(t, err)
	assert.Equal(t, sp, got)
	assert.NotEqual(t, sealed, s.SealRecord(&sp, true), "a nonce used twice")

	short := s.SealRecord(&sp, false)
	got, err = s.OpenRecord(short, ServiceRow(row, sp.StartNs, sp.Service))
	require.NoError(t, err)
	assert.Equal(t, "frontend", got.Service)
	assert.Empty(t, got.Raw)
	for _, moved := range [][]byte{
		TraceRow(TraceID{9}, sp.SpanID),        // another trace's row
		TraceRow(sp.TraceID, SpanID{9}),        // another span's
		ServiceRow(row, sp.StartNs, "backend"), // the short record in another service's row
		ServiceRow(row, sp.StartNs+1, sp.Service),
		row,
	} {
		_, err = s.OpenRecord(short, moved)
		require.ErrorIs(t, err, ErrRecordKey)
		_, err = s.OpenRecord(sealed, moved)
		if !bytes.Equal(moved, row) {
			require.ErrorIs(t, err, ErrRecordKey)
		}
	}

	_, err = other.OpenRecord(sealed, row)
	require.ErrorIs(t, err, ErrRecordKey)
	for i := range sealed {
		changed := bytes.Clone(sealed)
		changed[i] ^= 0x20
		_, err := s.OpenRecord(changed, row)
		require.Error(t, err, "byte %d changed unnoticed", i)
	}
	_, err = s.OpenRecord(sealed[:20], row)
	require.ErrorIs(t, err, ErrCorruptRecord)
	_, err = s.OpenRecord(EncodeRecord(&sp, true), row) // stored in the clear
	require.ErrorIs(t, err, ErrPlainRecord)
	_, err = NewSealer([]byte("short"))
	require.Error(t, err)
}

// TestKeyFiles: a key file is made once (never replaced), read back, and
// refused when others can read it or it holds no key.
func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "record.key")
	key, created, err := LoadOrCreateKey(path)
	require.NoError(t, err)
	require.True(t, created)
	again, created, err := LoadOrCreateKey(path)
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, key, again)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	_, err = CreateKey(path)
	require.Error(t, err, "an existing key replaced")

	require.NoError(t, os.Chmod(path, 0o644))
	_, err = LoadKey(path)
	require.ErrorContains(t, err, "chmod 600")

	bad := filepath.Join(dir, "bad.key")
	require.NoError(t, os.WriteFile(bad, []byte("not a key\n"), 0o600))
	_, err = LoadKey(bad)
	require.ErrorContains(t, err, "base64")

	_, _, err = EncryptionConfig{}.Sealer(true)
	require.ErrorContains(t, err, "key_file must name the record key")
	_, _, err = EncryptionConfig{KeyFile: filepath.Join(dir, "none.key")}.Sealer(false)
	require.Error(t, err, "a missing key created where it must be given")
}

// FuzzOpenRecord: any bytes open to a span or an error, never a panic.
func FuzzOpenRecord(f *testing.F) {
	s := testSealer(f, 3)
	sp := Span{TraceID: TraceID{1}, SpanID: SpanID{2}, Service: "a", Raw: []byte{1, 2}}
	f.Add(s.SealRecord(&sp, true))
	f.Add(s.SealRecord(&sp, false))
	f.Add([]byte{sealedVersion})
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := s.OpenRecord(data, TraceRow(sp.TraceID, sp.SpanID)); err == nil && len(data) < 1+24+16 {
			t.Fatalf("%d bytes opened", len(data))
		}
	})
}

// TestCreateKeyRace: processes creating one key file at once all end with
// the same whole key.
func TestCreateKeyRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "record.key")
	keys := make([][]byte, 8)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys[i], _, errs[i] = LoadOrCreateKey(path)
		}()
	}
	wg.Wait()
	for i := range keys {
		require.NoError(t, errs[i])
		require.Equal(t, keys[0], keys[i])
	}
	left, err := filepath.Glob(filepath.Join(filepath.Dir(path), ".record-key-*"))
	require.NoError(t, err)
	assert.Empty(t, left, "temporary key files left")
}
