package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrUnavailable means the server could not be reached or did not answer in time. The operation may or may
// not have taken effect (an append whose answer was lost may be stored): the caller retries later with the
// same event ids and expected revision, which is idempotent, or reports the store as down.
var ErrUnavailable = errors.New("eventstore: server unavailable: retry later")

// code returns the client's error code of err. Some client paths (starting a read, a dropped subscription)
// return the bare gRPC error; its status code is classified the way the client classifies the others.
func code(err error) esdb.ErrorCode {
	var esErr *esdb.Error
	if errors.As(err, &esErr) && esErr.Code() != esdb.ErrorCodeUnknown {
		return esErr.Code()
	}
	switch status.Code(err) {
	case codes.Unavailable:
		return esdb.ErrorUnavailable
	case codes.DeadlineExceeded:
		return esdb.ErrorCodeDeadlineExceeded
	case codes.NotFound:
		return esdb.ErrorCodeResourceNotFound
	case codes.Unauthenticated:
		return esdb.ErrorCodeUnauthenticated
	case codes.PermissionDenied:
		return esdb.ErrorCodeAccessDenied
	case codes.Unimplemented:
		return esdb.ErrorCodeUnsupportedFeature
	}
	return esdb.ErrorCodeUnknown
}

// dropped is the error of a subscription the server or the connection dropped: the caller's context error
// when it gave up, else the drop's, the client replaced if the connection is gone.
func (s *Store) dropped(ctx context.Context, c *esdb.Client, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	s.check(c, err)
	return s.wrap(ctx, what+": dropped", err)
}

// wrap adds what was being done to a client error, and the sentinel a caller can act on: the context's
// error when the caller gave up (ctx is the caller's), ErrClosed when the Store was closed under the call,
// ErrUnavailable when the server is unreachable.
func (s *Store) wrap(ctx context.Context, what string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w (%v)", what, ctxErr, err)
	}
	if s.isClosed() {
		return fmt.Errorf("%s: %w", what, ErrClosed)
	}
	switch code(err) {
	case esdb.ErrorUnavailable, esdb.ErrorCodeConnectionClosed, esdb.ErrorCodeDeadlineExceeded, esdb.ErrorCodeNotLeader:
		return fmt.Errorf("%s: %w: %w", what, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// actualRevision extracts the stream's current revision from the client's wrong-expected-version error
// ("wrong expected version: expecting '3' but got 'no_stream'"): the client keeps the server's numbers only
// in that text. -1 means no stream; ok is false when the text has another shape.
func actualRevision(err error) (actual int64, ok bool) {
	const marker = "but got '"
	msg := err.Error()
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return 0, false
	}
	rest := msg[i+len(marker):]
	j := strings.IndexByte(rest, '\'')
	if j < 0 {
		return 0, false
	}
	v := rest[:j]
	if v == "no_stream" {
		return -1, true
	}
	n, perr := strconv.ParseInt(v, 10, 64)
	if perr != nil || n < 0 {
		return 0, false
	}
	return n, true
}
