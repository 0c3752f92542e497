package thrifttracing

import (
	"reflect"
	"strings"
	"testing"

	"github.com/seer-qos/seer/idl/seerthrift"
)

func TestNamesLookupDoesNotAllocate(t *testing.T) {
	names.mustID("submitBatch")
	m := strings.Clone("submitBatch")
	if n := testing.AllocsPerRun(100, func() { names.lookup(0, m) }); n != 0 {
		t.Errorf("lookup: %v allocations", n)
	}
}

// TestRingSlotHasNoPointers: the point of ringSpan.
func TestRingSlotHasNoPointers(t *testing.T) {
	var check func(reflect.Type) bool
	check = func(ty reflect.Type) bool {
		switch ty.Kind() {
		case reflect.Struct:
			for i := range ty.NumField() {
				if !check(ty.Field(i).Type) {
					return false
				}
			}
			return true
		case reflect.Array:
			return check(ty.Elem())
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			return true
		}
		return false
	}
	if !check(reflect.TypeFor[ringSlot]()) {
		t.Error("ringSlot holds pointers")
	}
}

// TestRingKeepsStrings: names, names past a full table and status messages
// come out of the ring as they went in.
func TestRingKeepsStrings(t *testing.T) {
	r := newSpanRing(8)
	roundTrip := func(s SpanData) {
		t.Helper()
		if _, ok := r.push(&s); !ok {
			t.Fatal("push refused")
		}
		var got SpanData
		if !r.pop(&got) {
			t.Fatal("pop found nothing")
		}
		s.opID, s.peerID = 0, 0
		if got != s {
			t.Errorf("got %+v, want %+v", got, s)
		}
	}
	s := testSpan(1, seerthrift.SpanKind_CLIENT) // with a status message
	roundTrip(s)
	s.Operation, s.PeerService, s.StatusMessage = "op-"+t.Name(), "peer-"+t.Name(), ""
	roundTrip(s)

	// A full table: new names wait beside the ring.
	setMax := func(n int) {
		names.mu.Lock()
		maxNames = n
		names.mu.Unlock()
	}
	saved := maxNames
	defer setMax(saved)
	setMax(len(*names.list.Load()))
	s.Operation, s.PeerService = "other-op-"+t.Name(), "other-peer-"+t.Name()
	roundTrip(s)
	s.StatusMessage = "boom"
	roundTrip(s)
	if len(r.side) != 0 {
		t.Errorf("side strings left: %v", r.side)
	}
	// A hint that names another string is not trusted.
	s.opID = names.mustID("submitBatch")
	roundTrip(s)
}
