package broadcast

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPublishNeverBlocksAndCountsDrops(t *testing.T) {
	b := New[int]()
	fast := b.Subscribe("fast", 10)
	slow := b.Subscribe("slow", 2)
	for i := range 5 {
		b.Publish(i)
	}
	assert.Equal(t, uint64(0), fast.Dropped())
	assert.Equal(t, uint64(3), slow.Dropped())
	assert.Equal(t, uint64(3), b.Dropped())
	assert.Equal(t, uint64(5), b.Published())
	assert.Equal(t, []SubscriberStats{{Name: "fast", Buffered: 5, Capacity: 10}, {Name: "slow", Buffered: 2, Capacity: 2, Dropped: 3}}, b.Stats())
	assert.Equal(t, 0, <-slow.C, "the oldest values are kept")
	assert.Equal(t, 1, <-slow.C)

	slow.Close()
	slow.Close()
	_, ok := <-slow.C
	assert.False(t, ok)
	d, dr := b.Publish(9)
	assert.Equal(t, 1, d)
	assert.Equal(t, 0, dr)

	b.Close()
	var got []int
	for v := range fast.C {
		got = append(got, v)
	}
	assert.Equal(t, []int{0, 1, 2, 3, 4, 9}, got)
	late := b.Subscribe("late", 1)
	_, ok = <-late.C
	require.False(t, ok, "a closed broadcaster hands out closed subscriptions")
}

func TestRegistrySharesByNameUntilLastRelease(t *testing.T) {
	var made, destroyed []string
	r := NewRegistry(func(name string) *Broadcaster[int] {
		made = append(made, name)
		return New[int]()
	}, func(b *Broadcaster[int]) {
		destroyed = append(destroyed, "x")
		b.Close()
	})
	a := r.Acquire("x")
	if b := r.Acquire("x"); b != a {
		t.Fatal("second Acquire of the same name returned another value")
	}
	sub := a.Subscribe("s", 1)
	r.Release("x")
	if len(destroyed) != 0 {
		t.Fatal("destroyed while still held")
	}
	r.Release("x")
	if len(destroyed) != 1 {
		t.Fatalf("destroyed %d times, want 1", len(destroyed))
	}
	if _, ok := <-sub.C; ok {
		t.Fatal("subscription still open after the last Release")
	}
	r.Release("x") // unknown name: no-op
	if c := r.Acquire("x"); c == a || len(made) != 2 {
		t.Fatalf("Acquire after the last Release reused the old value (made %v)", made)
	}
}
