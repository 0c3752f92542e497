package seerstore

import (
	"bytes"
	"os"
	"path/filepath"
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
	got, err := s.OpenRecord(sealed)
	require.NoError(t, err)
	assert.Equal(t, sp, got)
	assert.NotEqual(t, sealed, s.SealRecord(&sp, true), "a nonce used twice")

	_, err = other.OpenRecord(sealed)
	require.ErrorIs(t, err, ErrRecordKey)
	for i := range sealed {
		changed := bytes.Clone(sealed)
		changed[i] ^= 0x20
		_, err := s.OpenRecord(changed)
		require.Error(t, err, "byte %d changed unnoticed", i)
	}
	_, err = s.OpenRecord(sealed[:20])
	require.ErrorIs(t, err, ErrCorruptRecord)
	_, err = s.OpenRecord(EncodeRecord(&sp, true)) // a record stored in the clear
	require.ErrorIs(t, err, ErrCorruptRecord)
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
		if _, err := s.OpenRecord(data); err == nil && len(data) < 1+24+16 {
			t.Fatalf("%d bytes opened", len(data))
		}
	})
}
