package eventlog_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// TestSharedDecodesOncePerDecoder: readers of one copy of an event that decode with the same decoder
// decode it once between them, error included; a reader with another decoder gets its own result; a copy
// nobody shares (nil) decodes every time.
func TestSharedDecodesOncePerDecoder(t *testing.T) {
	var calls int
	var mu sync.Mutex
	decode := func(v any, err error) func() (any, error) {
		return func() (any, error) {
			mu.Lock()
			calls++
			mu.Unlock()
			return v, err
		}
	}
	regA, regB := new(int), new(int)
	s := new(eventlog.Shared)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if v, err := s.Payload(regA, decode("a", nil)); v != "a" || err != nil {
				t.Errorf("payload %v, %v", v, err)
			}
		})
	}
	wg.Wait()
	if calls != 1 {
		t.Fatalf("eight readers with one decoder decoded %d times, want once", calls)
	}
	if v, _ := s.Payload(regB, decode("b", nil)); v != "b" || calls != 2 {
		t.Errorf("a reader with another decoder got %v after %d decodes, want its own b", v, calls)
	}
	if v, _ := s.Payload(regA, decode("x", nil)); v != "a" || calls != 2 {
		t.Errorf("the first decoder's readers got %v after %d decodes, want the shared a", v, calls)
	}
	bad := errors.New("malformed")
	e := new(eventlog.Shared)
	for range 2 {
		if _, err := e.Payload(regA, decode(nil, bad)); !errors.Is(err, bad) {
			t.Errorf("error %v, want the decoder's", err)
		}
	}
	if calls != 3 {
		t.Errorf("a failed decode was done %d times for two readers, want once", calls-2)
	}
	var none *eventlog.Shared
	none.Payload(regA, decode("n", nil))
	none.Payload(regA, decode("n", nil))
	if calls != 5 {
		t.Errorf("an unshared copy decoded %d times for two readers, want twice", calls-3)
	}
}
