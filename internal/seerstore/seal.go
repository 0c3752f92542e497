package seerstore

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the size of a record key in bytes.
const KeySize = chacha20poly1305.KeySize

// sealedVersion is the first byte of a sealed record; recordVersion's
// records are never stored as they are.
const sealedVersion = 0x81

// ErrRecordKey is returned by Sealer.Open for a record that does not open
// with the key: another key, or bytes changed since they were sealed.
var ErrRecordKey = errors.New("span record does not open with this key (another key, or altered)")

// Sealer encrypts span records at rest. The Seer paper stored traces in
// the clear; Seer does not: a record's attributes, names and messages are
// sealed with XChaCha20-Poly1305 under the store's key, which also detects
// any change to them. Its 192-bit nonces are drawn at random per record, so
// one key can seal any number of records (a 96-bit random nonce, as in
// AES-GCM, would be safe for only about 2^32 of them: a day of spans at
// 20,000 a second). What rows are found by stays readable: trace and span
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

// Seal returns record sealed: the version, a random nonce, the ciphertext.
func (s *Sealer) Seal(record []byte) []byte {
	n := s.aead.NonceSize()
	out := make([]byte, 1+n, 1+n+len(record)+s.aead.Overhead())
	out[0] = sealedVersion
	if _, err := rand.Read(out[1 : 1+n]); err != nil {
		panic(fmt.Sprintf("seerstore: no randomness for a nonce: %v", err)) // crypto/rand does not fail on Linux
	}
	return s.aead.Seal(out, out[1:1+n], record, out[:1])
}

// Open returns the record that Seal sealed into sealed.
func (s *Sealer) Open(sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != sealedVersion {
		return nil, ErrCorruptRecord
	}
	rec, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], sealed[:1])
	if err != nil {
		return nil, ErrRecordKey
	}
	return rec, nil
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
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("record key: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		return nil, fmt.Errorf("record key %s: %w", path, err)
	}
	return key, nil
}

// LoadOrCreateKey loads the key at path, or creates it when there is no
// file there; created reports which.
func LoadOrCreateKey(path string) (key []byte, created bool, err error) {
	key, err = LoadKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = CreateKey(path)
		return key, err == nil, err
	}
	return key, false, err
}

// SealRecord is Seal(EncodeRecord(s, withRaw)): a span as the stores keep it.
func (s *Sealer) SealRecord(sp *Span, withRaw bool) []byte { return s.Seal(EncodeRecord(sp, withRaw)) }

// OpenRecord reverses SealRecord.
func (s *Sealer) OpenRecord(sealed []byte) (Span, error) {
	rec, err := s.Open(sealed)
	if err != nil {
		return Span{}, err
	}
	return DecodeRecord(rec)
}

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
		return nil, false, errors.New("encryption: key_file must name the record key (spans are stored encrypted)")
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
