package cassandrastore

import (
	"context"
	"errors"
	"fmt"
	"testing"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/stretchr/testify/assert"
)

type fakeRequestError struct{ code int }

func (e fakeRequestError) Code() int       { return e.code }
func (e fakeRequestError) Message() string { return "fake" }
func (e fakeRequestError) Error() string   { return fmt.Sprintf("fake request error %#x", e.code) }

func TestIsPermanent(t *testing.T) {
	invalid := fakeRequestError{gocql.ErrCodeInvalid}
	timeout := fakeRequestError{gocql.ErrCodeWriteTimeout}
	for name, tc := range map[string]struct {
		err  error
		want bool
	}{
		"nil":               {nil, false},
		"no hosts":          {gocql.ErrNoConnections, false},
		"deadline":          {context.DeadlineExceeded, false},
		"invalid":           {invalid, true},
		"wrapped invalid":   {fmt.Errorf("writing: %w", invalid), true},
		"write timeout":     {timeout, false},
		"unavailable":       {fakeRequestError{gocql.ErrCodeUnavailable}, false},
		"overloaded":        {fakeRequestError{gocql.ErrCodeOverloaded}, false},
		"too many stmts":    {gocql.ErrTooManyStmts, true},
		"joined all bad":    {fmt.Errorf("w: %w", errors.Join(invalid, gocql.ErrTooManyStmts)), true},
		"joined some retry": {fmt.Errorf("w: %w", errors.Join(invalid, timeout)), false},
	} {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, IsPermanent(tc.err)) })
	}
}
