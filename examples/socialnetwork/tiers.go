package socialnetwork

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/seer-qos/seer/examples/socialnetwork/socialthrift"
)

// maxEntries bounds each cache and store: past it, an insert evicts an
// arbitrary entry, so a long demo runs in bounded memory.
const maxEntries = 1 << 14

// kv is a bounded in-memory key-value map.
type kv struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newKV() *kv { return &kv{m: make(map[string][]byte)} }

func (s *kv) get(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return v, ok
}

func (s *kv) put(key string, v []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; !ok && len(s.m) >= maxEntries {
		for k := range s.m { // map order is random enough for eviction
			delete(s.m, k)
			break
		}
	}
	s.m[key] = v
}

// cacheHandler serves Cache: a memcached-like cache whose gets find a
// present key with probability HitRatio (the others count as evicted).
type cacheHandler struct {
	w        *workers
	data     *kv
	hitRatio float64
}

func (h *cacheHandler) Get(ctx context.Context, key string) ([]byte, error) {
	if err := h.w.do(ctx, 1); err != nil {
		return nil, err
	}
	if v, ok := h.data.get(key); ok && rand.Float64() < h.hitRatio {
		return v, nil
	}
	return nil, &socialthrift.NotFound{Key: key}
}

func (h *cacheHandler) Put(ctx context.Context, key string, value []byte) error {
	if err := h.w.do(ctx, 1); err != nil {
		return err
	}
	h.data.put(key, value)
	return nil
}

// storageHandler serves Storage: a mongodb-like store with I/O-like reads
// and slower writes. Every document exists: one never written is derived
// from its key.
type storageHandler struct {
	w    *workers
	data *kv
}

func (h *storageHandler) Find(ctx context.Context, key string) ([]byte, error) {
	if err := h.w.do(ctx, 1); err != nil {
		return nil, err
	}
	if v, ok := h.data.get(key); ok {
		return v, nil
	}
	return valueOf(key), nil
}

func (h *storageHandler) Insert(ctx context.Context, key string, value []byte) error {
	if err := h.w.do(ctx, 4.0/3); err != nil {
		return err
	}
	h.data.put(key, value)
	return nil
}

// readThrough reads key from cache, and on a miss from db, filling the
// cache.
func readThrough(ctx context.Context, cache *connPool[*socialthrift.CacheClient], db *connPool[*socialthrift.StorageClient], key string) ([]byte, error) {
	var v []byte
	err := cache.Call(func(c *socialthrift.CacheClient) (err error) {
		v, err = c.Get(ctx, key)
		return err
	})
	if nf := (*socialthrift.NotFound)(nil); !errors.As(err, &nf) {
		if err != nil {
			return nil, fmt.Errorf("cache get %s: %w", key, err)
		}
		return v, nil
	}
	err = db.Call(func(c *socialthrift.StorageClient) (err error) {
		v, err = c.Find(ctx, key)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", key, err)
	}
	err = cache.Call(func(c *socialthrift.CacheClient) error { return c.Put(ctx, key, v) })
	if err != nil {
		return nil, fmt.Errorf("cache put %s: %w", key, err)
	}
	return v, nil
}

// valueOf is the value a store holds for a key nobody wrote: 64 bytes
// derived from it.
func valueOf(key string) []byte {
	v := make([]byte, 64)
	var h uint64 = 14695981039346656037
	for i := range len(key) {
		h = (h ^ uint64(key[i])) * 1099511628211
	}
	for i := 0; i < len(v); i += 8 {
		binary.LittleEndian.PutUint64(v[i:], h)
		h = h*6364136223846793005 + 1442695040888963407
	}
	return v
}

// idsOf reads up to n ids, in [1, users], from a value.
func idsOf(v []byte, n int) []int64 {
	var out []int64
	for i := 0; i+8 <= len(v) && len(out) < n; i += 8 {
		out = append(out, 1+int64(binary.LittleEndian.Uint64(v[i:])%users))
	}
	return out
}

// users is how many users the social network has.
const users = 1000
