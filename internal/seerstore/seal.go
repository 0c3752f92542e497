package seerstore

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the size of a record key in bytes.
const KeySize = chacha20poly1305.KeySize

// sealedVersion is the first byte of a sealed record; recordVersion's
// records are never stored as they are.
const sealedVersion = 0x81

// ErrRecordKey is returned by Sealer.OpenRecord for a record that does not
// open in its row with the key: another key, bytes changed since they were
// sealed, or a record moved from another row.
var ErrRecordKey = errors.New("span record does not open with this key (another key, or altered)")

// Sealer encrypts span records at rest. The Seer paper stored traces in
// the clear; Seer does not: a record's attributes, names and messages are
// sealed with XChaCha20-Poly1305 under the store's key, bound to the row it
// is stored in (TraceRow, ServiceRow), so that a changed record, or one
// moved to another row, does not open; a deleted row, or an older record of
// the same row put back, is not detected. Its 192-bit nonces are drawn at
// random per record, so one key can seal any number of records (a 96-bit
// random nonce, as in AES-GCM, would be safe for only about 2^32 of them:
// 2.5 days of spans at 20,000 a second). What rows are found by stays readable: trace and span
// IDs, service names and times in keys, and the queue-depth series and the
// dependency graph, which are metrics.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer with key (KeySize bytes).
func NewSealer(key []byte) (*Sealer, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("record key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// ErrPlainRecord is returned for a span record stored in the clear, by a
// Seer from before records were sealed: such a store cannot be read (a
// reader that took plain records would take injected ones too).
var ErrPlainRecord = errors.New("span record stored in the clear (written before records were sealed): read it with an older seer, or start a new store")

// TraceRow is the row of a span's full record (EncodeRecord with Raw): its
// trace and span IDs, which key that row in both stores.
func TraceRow(t TraceID, sp SpanID) []byte { return append(t[:], sp[:]...) }

// ServiceRow is the row of a span's short record (the training fields):
// ids (TraceRow), start and service, which key the stores' service rows.
func ServiceRow(ids []byte, startNs int64, service string) []byte {
	row := binary.BigEndian.AppendUint64(slices.Clip(ids), uint64(startNs))
	return append(row, service...)
}

// LoadKey reads a record key file: the key in standard base64 on one line.
// A file that others than its owner can read is refused, as ssh refuses
// such private keys.
func LoadKey(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("record key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("record key %s: mode %v lets others read it; chmod 600 it", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("record key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("record key %s: want %d bytes in base64 on one line", path, KeySize)
	}
	return key, nil
}

// CreateKey writes a new random record key to path (mode 600) and returns
// it; it refuses to replace an existing file, whose key may seal data.
func CreateKey(path string) ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("record key: %w", err)
	}
	// Written whole to a file of its own, then linked into place: the key
	// file appears complete or not at all, and of two processes creating it
	// at once one wins and the other reads the winner's key.
	f, err := os.CreateTemp(filepath.Dir(path), ".record-key-*")
	if err != nil {
		return nil, fmt.Errorf("record key: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err = errors.Join(err, f.Chmod(0o600), f.Sync(), f.Close()); err != nil {
		return nil, fmt.Errorf("record key %s: %w", path, err)
	}
	if err := os.Link(f.Name(), path); err != nil {
		return nil, fmt.Errorf("record key: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil { // the link survives a crash
		_ = d.Sync()
		_ = d.Close()
	}
	return key, nil
}

// LoadOrCreateKey loads the key at path, or creates it when there is no
// file there; created reports which.
func LoadOrCreateKey(path string) (key []byte, created bool, err error) {
	key, err = LoadKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = CreateKey(path)
		if errors.Is(err, fs.ErrExist) { // another process made it first
			key, err = LoadKey(path)
			return key, false, err
		}
		return key, err == nil, err
	}
	return key, false, err
}

// SealRecord seals EncodeRecord(sp, withRaw) for its row: TraceRow with
// Raw, ServiceRow without. The result is the version, a random nonce and
// the ciphertext, authenticated with the version and the row.
func (s *Sealer) SealRecord(sp *Span, withRaw bool) []byte {
	row := TraceRow(sp.TraceID, sp.SpanID)
	if !withRaw {
		row = ServiceRow(row, sp.StartNs, sp.Service)
	}
	rec := EncodeRecord(sp, withRaw)
	n := s.aead.NonceSize()
	out := make([]byte, 1+n, 1+n+len(rec)+s.aead.Overhead())
	out[0] = sealedVersion
	if _, err := rand.Read(out[1 : 1+n]); err != nil {
		panic(fmt.Sprintf("seerstore: no randomness for a nonce: %v", err)) // crypto/rand does not fail on Linux
	}
	return s.aead.Seal(out, out[1:1+n], rec, append(out[:1:1], row...))
}

// OpenRecord reverses SealRecord for the record stored in row.
func (s *Sealer) OpenRecord(sealed, row []byte) (Span, error) {
	n := s.aead.NonceSize()
	switch {
	case len(sealed) > 0 && sealed[0] == recordVersion:
		return Span{}, ErrPlainRecord
	case len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != sealedVersion:
		return Span{}, ErrCorruptRecord
	}
	rec, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], append(sealed[:1:1], row...))
	if err != nil {
		return Span{}, ErrRecordKey
	}
	return DecodeRecord(rec)
}

// ErrNoKeyFile is the error of an EncryptionConfig without a key file.
var ErrNoKeyFile = errors.New("encryption: key_file must name the record key (spans are stored encrypted; `seer key --out FILE` makes one)")

// EncryptionConfig is the record key setting of the exporters that store
// spans (seerlocal, seercassandra).
type EncryptionConfig struct {
	// KeyFile holds the record key: KeySize random bytes in base64 on one
	// line, mode 600 (`seer key --out FILE` makes one). Keep it apart from
	// the data: the stored spans cannot be read without it.
	KeyFile string `mapstructure:"key_file"`
}

// Sealer loads the key file, or, when create is set and there is no file,
// creates one (the embedded store, whose key a single node keeps for
// itself); created reports that.
func (c EncryptionConfig) Sealer(create bool) (s *Sealer, created bool, err error) {
	if c.KeyFile == "" {
		return nil, false, ErrNoKeyFile
	}
	var key []byte
	if create {
		key, created, err = LoadOrCreateKey(c.KeyFile)
	} else {
		key, err = LoadKey(c.KeyFile)
	}
	if err != nil {
		return nil, false, fmt.Errorf("encryption: %w", err)
	}
	s, err = NewSealer(key)
	return s, created, err
}
