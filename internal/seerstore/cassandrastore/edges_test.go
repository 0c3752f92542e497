package cassandrastore

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seer-qos/seer/internal/seerstore"
)

func TestDecodeEdges(t *testing.T) {
	edges := []seerstore.GraphEdge{{Caller: "a", Callee: "b", Operation: "get", Calls: 3}}
	b, err := json.Marshal(edges)
	require.NoError(t, err)
	got, err := DecodeEdges(b)
	require.NoError(t, err)
	assert.Equal(t, edges, got)
	_, err = DecodeEdges([]byte(`{"caller":`))
	assert.ErrorContains(t, err, "decoding graph edges")
}

// FuzzDecodeEdges: arbitrary bytes decode to edges or an error, and decoded edges re-encode and
// decode to the same value.
func FuzzDecodeEdges(f *testing.F) {
	f.Add([]byte(`[{"caller":"a","callee":"b","calls":1}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		edges, err := DecodeEdges(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(edges)
		if err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		back, err := DecodeEdges(again)
		if err != nil {
			t.Fatalf("decoding re-encoded edges: %v", err)
		}
		assert.Equal(t, edges, back)
	})
}
