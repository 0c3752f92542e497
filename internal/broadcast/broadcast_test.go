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
