package threeservices

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/seer-qos/seer/examples/threeservices/demothrift"
	"github.com/seer-qos/seer/instrumentation/thrifttracing"
)

// ServiceConfig is the local work of one service.
type ServiceConfig struct {
	// Work is the mean local work per request; each request's work is drawn
	// from an exponential distribution with this mean, capped at ten times
	// it. Zero takes the service's default, negative means no work.
	Work time.Duration
	// Workers is how many requests do their local work at once; the others
	// wait for a worker, which is where queueing happens. Default 4.
	Workers int
	// Sleep makes the work a sleep instead of busy computation: it frees the
	// CPU, but the Go runtime rounds sub-millisecond sleeps up to about a
	// millisecond, so short work gets longer than configured.
	Sleep bool
}

func (c ServiceConfig) withDefaults(work time.Duration) ServiceConfig {
	if c.Work == 0 {
		c.Work = work
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	return c
}

// workers runs the local work of one service on a bounded pool.
type workers struct {
	cfg ServiceConfig
	sem chan struct{}
}

func newWorkers(cfg ServiceConfig) *workers {
	return &workers{cfg: cfg, sem: make(chan struct{}, cfg.Workers)}
}

// do waits for a worker, marks the span's processing start, and works.
func (w *workers) do(ctx context.Context) error {
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-w.sem }()
	thrifttracing.MarkProcessingStart(ctx)
	if w.cfg.Work <= 0 {
		return nil
	}
	d := time.Duration(rand.ExpFloat64() * float64(w.cfg.Work))
	d = min(d, 10*w.cfg.Work)
	if w.cfg.Sleep {
		time.Sleep(d) // simulated work, not synchronisation
		return nil
	}
	// Busy work is exact at the microsecond scale, and competes for cores
	// as real request processing does.
	for start := time.Now(); time.Since(start) < d; {
	}
	return nil
}

// storageHandler serves Storage.
type storageHandler struct {
	w    *workers
	hook func(ctx context.Context, key string)
}

func (h *storageHandler) Get(ctx context.Context, key string) ([]byte, error) {
	if h.hook != nil {
		h.hook(ctx, key)
	}
	if err := h.w.do(ctx); err != nil {
		return nil, err
	}
	return valueOf(key), nil
}

// valueOf is the stored value of key: 128 bytes derived from it.
func valueOf(key string) []byte {
	v := make([]byte, 128)
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

// usersHandler serves Users.
type usersHandler struct {
	w       *workers
	storage *connPool[*demothrift.StorageClient]
}

func (h *usersHandler) GetUser(ctx context.Context, id int64) (*demothrift.User, error) {
	if err := h.w.do(ctx); err != nil {
		return nil, err
	}
	var profile []byte
	err := h.storage.Call(func(c *demothrift.StorageClient) (err error) {
		profile, err = c.Get(ctx, fmt.Sprintf("profile:%d", id))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read profile of user %d: %w", id, err)
	}
	return &demothrift.User{ID: id, Name: fmt.Sprintf("user-%d", id), Profile: profile}, nil
}

// frontendHandler serves Frontend.
type frontendHandler struct {
	w       *workers
	users   *connPool[*demothrift.UsersClient]
	storage *connPool[*demothrift.StorageClient]
}

func (h *frontendHandler) Home(ctx context.Context, userID int64) (*demothrift.Page, error) {
	if err := h.w.do(ctx); err != nil {
		return nil, err
	}
	// The two reads are independent: issue them in parallel, as a real
	// frontend would.
	type userResult struct {
		u   *demothrift.User
		err error
	}
	userCh := make(chan userResult, 1)
	go func() {
		var r userResult
		r.err = h.users.Call(func(c *demothrift.UsersClient) (err error) {
			r.u, err = c.GetUser(ctx, userID)
			return err
		})
		userCh <- r
	}()
	var timeline []byte
	tlErr := h.storage.Call(func(c *demothrift.StorageClient) (err error) {
		timeline, err = c.Get(ctx, fmt.Sprintf("timeline:%d", userID))
		return err
	})
	ur := <-userCh
	if ur.err != nil {
		return nil, fmt.Errorf("get user %d: %w", userID, ur.err)
	}
	if tlErr != nil {
		return nil, fmt.Errorf("read timeline of user %d: %w", userID, tlErr)
	}
	return &demothrift.Page{User: ur.u, Timeline: timeline}, nil
}
