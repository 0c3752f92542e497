package cassandrastore

import (
	"context"
	"errors"
	"net"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

func asRequestError(err error, target *gocql.RequestError) bool {
	return errors.As(err, target)
}

// IsPermanent reports whether retrying err cannot succeed: Cassandra refused the request itself
// (invalid or oversized batch, syntax, schema mismatch, missing permission). Timeouts, unavailable or
// overloaded nodes, lost connections and "no hosts" are transient.
//
// An error that joins several (errors.Join) is permanent only when every one of them is: a retry
// of the whole request is worth it as soon as one part may succeed.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if !IsPermanent(e) {
				return false
			}
		}
		return true
	case interface{ Unwrap() error }:
		if _, ok := err.(gocql.RequestError); !ok {
			if inner := u.Unwrap(); inner != nil {
				return IsPermanent(inner)
			}
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return false
	}
	var re gocql.RequestError
	if errors.As(err, &re) {
		switch re.Code() {
		case gocql.ErrCodeSyntax, gocql.ErrCodeInvalid, gocql.ErrCodeUnauthorized, gocql.ErrCodeConfig,
			gocql.ErrCodeFunctionFailure:
			return true
		}
		return false
	}
	return errors.Is(err, gocql.ErrTooManyStmts)
}
