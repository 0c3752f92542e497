package seerstore

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzDecodeRecord: arbitrary records decode or fail, never panic; valid records round-trip.
func FuzzDecodeRecord(f *testing.F) {
	s := Span{TraceID: TraceID{1}, SpanID: SpanID{2}, Service: "svc", Name: "op",
		StartNs: 10, EndNs: 20, OutstandingRequests: NoDepth, NICQueueDepth: 3, Raw: []byte{1, 2, 3}}
	f.Add(EncodeRecord(&s, true))
	f.Add(EncodeRecord(&s, false))
	f.Add([]byte{recordVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeRecord(b)
		if err != nil {
			return
		}
		again, err := DecodeRecord(EncodeRecord(&s, true))
		require.NoError(t, err)
		assert.Equal(t, s, again)
	})
}
