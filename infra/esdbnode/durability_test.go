package esdbnode_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/grassroots-ledger/ledger/infra/esdbnode"
)

func openErr(t *testing.T, dir string) error {
	t.Helper()
	n, err := esdbnode.Open(context.Background(), esdbnode.Config{Dir: dir, Logger: quietLogger()})
	if err == nil {
		_ = n.Close()
		t.Fatalf("Open accepted %s", dir)
	}
	return err
}

func TestReopenKeepsEveryAcknowledgedEvent(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, dir)
	c := newClient(t, n.URL())
	ctx := ctxT(t)
	var want []esdb.EventData
	for i := range 20 {
		batch := evs(1+i%4, "Kept")
		if _, err := c.AppendToStream(ctx, fmt.Sprintf("keep-%d", i%3), esdb.AppendToStreamOptions{}, batch...); err != nil {
			t.Fatal(err)
		}
		want = append(want, batch...)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		n2 := startNode(t, dir)
		c2 := newClient(t, n2.URL())
		got := readAll(t, c2, esdb.ReadAllOptions{}, 1000)
		equalIDs(t, fmt.Sprintf("after reopen %d", round), ids(got), dataIDs(want))
		// Positions continue after the old head; idempotency survives the restart.
		res, err := c2.AppendToStream(ctx, "keep-0", esdb.AppendToStreamOptions{}, want[0])
		if err != nil {
			t.Fatalf("retry of the first event after reopen: %v", err)
		}
		if res.CommitPosition != got[0].Position.Commit {
			t.Errorf("retry after reopen answered position %d, original %d", res.CommitPosition, got[0].Position.Commit)
		}
		more := ev("After", `{}`)
		res, err = c2.AppendToStream(ctx, "keep-0", esdb.AppendToStreamOptions{}, more)
		if err != nil {
			t.Fatal(err)
		}
		if res.CommitPosition != uint64(len(want)+1) {
			t.Errorf("first append after reopen at position %d, want %d", res.CommitPosition, len(want)+1)
		}
		want = append(want, more)
		if err := n2.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenRefusesWhatIsNotItsStore(t *testing.T) {
	write := func(t *testing.T, content []byte) string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "events.db"), content, 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	check := func(t *testing.T, err, want error, mention string) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("got %v, want %v", err, want)
		}
		if !strings.Contains(err.Error(), "events.db") || !strings.Contains(err.Error(), mention) {
			t.Errorf("error %q should name the file and say %q", err, mention)
		}
		t.Logf("refused: %v", err)
	}
	t.Run("text file", func(t *testing.T) {
		check(t, openErr(t, write(t, []byte("hello, this is not a database\n"))), esdbnode.ErrForeign, "not a bbolt database")
	})
	t.Run("random bytes", func(t *testing.T) {
		b := bytes.Repeat([]byte("0123456789abcdef"), 4096)
		check(t, openErr(t, write(t, b)), esdbnode.ErrForeign, "not a bbolt database")
	})
	t.Run("foreign bbolt file", func(t *testing.T) {
		dir := t.TempDir()
		db, err := bolt.Open(filepath.Join(dir, "events.db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket([]byte("sessions"))
			if err != nil {
				return err
			}
			return b.Put([]byte("k"), []byte("v"))
		}); err != nil {
			t.Fatal(err)
		}
		_ = db.Close()
		before, _ := os.ReadFile(filepath.Join(dir, "events.db"))
		check(t, openErr(t, dir), esdbnode.ErrForeign, "another program")
		after, _ := os.ReadFile(filepath.Join(dir, "events.db"))
		if !bytes.Equal(before, after) {
			t.Errorf("refusing a foreign file modified it")
		}
	})
	t.Run("foreign bbolt file with a meta bucket", func(t *testing.T) {
		dir := t.TempDir()
		db, err := bolt.Open(filepath.Join(dir, "events.db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = db.Update(func(tx *bolt.Tx) error {
			b, _ := tx.CreateBucket([]byte("meta"))
			return b.Put([]byte("header"), []byte("someone else's header"))
		})
		_ = db.Close()
		check(t, openErr(t, dir), esdbnode.ErrForeign, "magic")
	})
	t.Run("locked by a running node", func(t *testing.T) {
		dir := t.TempDir()
		startNode(t, dir)
		check(t, openErr(t, dir), esdbnode.ErrLocked, "another node")
	})
}

// fillStore writes events whose data carry findable markers and returns the closed store's directory.
func fillStore(t *testing.T) (dir string, events []esdb.EventData) {
	t.Helper()
	dir = t.TempDir()
	n := startNode(t, dir)
	c := newClient(t, n.URL())
	for i := range 200 {
		e := ev("Marked", fmt.Sprintf(`{"marker":"MARK-%04d-%s"}`, i, strings.Repeat("x", 100)))
		if _, err := c.AppendToStream(ctxT(t), fmt.Sprintf("m-%d", i%5), esdb.AppendToStreamOptions{}, e); err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, events
}

func flip(t *testing.T, path string, off int64, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] ^= 0x5a
	}
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func markerOffset(t *testing.T, path, marker string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(marker))
	if i < 0 {
		t.Fatalf("marker %s not in file", marker)
	}
	return int64(i)
}

func TestOpenRefusesCorruptFile(t *testing.T) {
	t.Run("both meta pages damaged", func(t *testing.T) {
		dir, _ := fillStore(t)
		path := filepath.Join(dir, "events.db")
		flip(t, path, 20, 40)      // page 0, inside bbolt's meta (after the magic)
		flip(t, path, 4096+20, 40) // page 1
		err := openErr(t, dir)
		if !errors.Is(err, esdbnode.ErrCorrupt) || !strings.Contains(err.Error(), path) {
			t.Fatalf("got %v, want ErrCorrupt naming %s", err, path)
		}
		t.Logf("refused: %v", err)
	})
	t.Run("last record damaged", func(t *testing.T) {
		dir, _ := fillStore(t)
		path := filepath.Join(dir, "events.db")
		flip(t, path, markerOffset(t, path, "MARK-0199"), 4)
		err := openErr(t, dir)
		if !errors.Is(err, esdbnode.ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "last record") {
			t.Fatalf("got %v, want ErrCorrupt naming %s and the last record", err, path)
		}
		t.Logf("refused: %v", err)
	})
}

// Damage deeper in the history is not looked for at open (that would make opening proportional to the
// history); it is caught by the record checksums when read, and reported as an error, never served.
func TestCorruptRecordIsAnErrorNotData(t *testing.T) {
	dir, events := fillStore(t)
	path := filepath.Join(dir, "events.db")
	flip(t, path, markerOffset(t, path, "MARK-0050"), 4)
	n := startNode(t, dir)
	c := newClient(t, n.URL())

	rs, err := c.ReadAll(ctxT(t), esdb.ReadAllOptions{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for {
		e, err := rs.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				t.Fatal("read of a damaged store ended without an error")
			}
			if !strings.Contains(err.Error(), "corrupt") {
				t.Errorf("error %q does not say corrupt", err)
			}
			t.Logf("read stopped with: %v", err)
			break
		}
		if e.Event.EventID != events[got].EventID || !bytes.Equal(e.Event.Data, events[got].Data) {
			t.Fatalf("event %d served wrong data", got)
		}
		got++
	}
	if got > 50 {
		t.Errorf("served %d events, the damaged one is #50", got)
	}
	// Appends and reads of undamaged streams still work.
	if _, err := c.AppendToStream(ctxT(t), "fresh", esdb.AppendToStreamOptions{}, ev("Fresh", `{}`)); err != nil {
		t.Fatalf("append after detecting damage: %v", err)
	}
}

// TestHelperNodeProcess is not a test: TestKillNineLosesNoAcknowledgedEvent runs the test binary again with
// this test selected to get a node in a separate process it can SIGKILL.
func TestHelperNodeProcess(t *testing.T) {
	dir := os.Getenv("ESDBNODE_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process for TestKillNineLosesNoAcknowledgedEvent")
	}
	n, err := esdbnode.Open(context.Background(), esdbnode.Config{Dir: dir, Logger: quietLogger()})
	if err != nil {
		fmt.Printf("ERROR %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("ADDR %s\n", n.Addr())
	// Run until killed, or until the parent goes away (stdin closes).
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

func startChildNode(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperNodeProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ESDBNODE_HELPER_DIR="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stdin.Close() })
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("child node: %v", err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "ADDR ")
	if !ok {
		t.Fatalf("child node said %q", line)
	}
	return cmd, addr
}

// TestKillNineLosesNoAcknowledgedEvent runs a node in a child process, has 8 writers append 3-event batches to
// it, SIGKILLs it mid-stream, restarts a node on the same directory and checks: every acknowledged batch is
// there, every batch is there entirely or not at all, $all is dense and ordered, and the node works.
func TestKillNineLosesNoAcknowledgedEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	for round := range 2 {
		cmd, addr := startChildNode(t, dir)
		c := dialClient(t, "esdb://"+addr+"?tls=false")

		type batch struct {
			stream string
			ids    [3]uuid.UUID
		}
		var mu sync.Mutex
		var attempted, acked []batch
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					default:
					}
					b := batch{stream: fmt.Sprintf("kill-%d-%d", w, k%4)}
					events := make([]esdb.EventData, 3)
					for i := range events {
						events[i] = ev("Killed", fmt.Sprintf(`{"w":%d,"k":%d,"i":%d}`, w, k, i))
						b.ids[i] = events[i].EventID
					}
					mu.Lock()
					attempted = append(attempted, b)
					mu.Unlock()
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					_, err := c.AppendToStream(ctx, b.stream, esdb.AppendToStreamOptions{}, events...)
					cancel()
					if err != nil {
						return // the node is gone
					}
					mu.Lock()
					acked = append(acked, b)
					mu.Unlock()
				}
			}()
		}
		// Let the writers get going, then kill the node while they are mid-stream.
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			k := len(acked)
			mu.Unlock()
			if k >= 200 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		close(stop)
		writersDone := make(chan struct{})
		go func() { wg.Wait(); close(writersDone) }()
		select {
		case <-writersDone:
			_ = c.Close()
		case <-time.After(15 * time.Second):
			// The official client (v4.1.0, esdb/impl.go handleError) can block an append for ever once its
			// node is gone: it hands its reconnect request to a connection handler that no longer takes it,
			// whatever the context says. Those writers are left blocked, and the client open (closing it
			// would make their sends panic); what they attempted was never acknowledged.
			t.Logf("round %d: writers still blocked in the client 15 s after the kill; left", round)
		}
		mu.Lock()
		attemptedSeen, ackedSeen := slices.Clone(attempted), slices.Clone(acked) // a writer left blocked may still add to them
		mu.Unlock()
		if len(ackedSeen) == 0 {
			t.Fatal("no append was acknowledged before the kill")
		}

		n := startNode(t, dir)
		c2 := newClient(t, n.URL())
		all := readAll(t, c2, esdb.ReadAllOptions{}, 1<<40)
		at := make(map[uuid.UUID]int, len(all))
		for i, e := range all {
			if e.Position.Commit != uint64(i+1) {
				t.Fatalf("$all not dense and ordered: event %d at position %d", i, e.Position.Commit)
			}
			at[e.EventID] = i
		}
		for _, b := range ackedSeen {
			for _, id := range b.ids {
				if _, ok := at[id]; !ok {
					t.Fatalf("acknowledged event %s of %s lost", id, b.stream)
				}
			}
		}
		present := 0
		for _, b := range attemptedSeen {
			i0, ok0 := at[b.ids[0]]
			_, ok1 := at[b.ids[1]]
			_, ok2 := at[b.ids[2]]
			if ok0 != ok1 || ok1 != ok2 {
				t.Fatalf("batch of %s partially present: %v %v %v", b.stream, ok0, ok1, ok2)
			}
			if !ok0 {
				continue
			}
			present++
			if at[b.ids[1]] != i0+1 || at[b.ids[2]] != i0+2 ||
				all[i0].StreamID != b.stream || all[i0+2].EventNumber != all[i0].EventNumber+2 {
				t.Fatalf("batch of %s not contiguous", b.stream)
			}
		}
		t.Logf("round %d: %d batches attempted, %d acknowledged, %d present after SIGKILL", round, len(attemptedSeen), len(ackedSeen), present)
		// The event-id index of the killed node's last appends is rebuilt from the log: a retry of an
		// acknowledged batch is recognised and writes nothing.
		last := ackedSeen[len(ackedSeen)-1]
		retry := make([]esdb.EventData, 3)
		for i, id := range last.ids {
			e := all[at[id]]
			retry[i] = esdb.EventData{EventID: e.EventID, EventType: e.EventType, ContentType: esdb.ContentTypeJson,
				Data: e.Data, Metadata: e.UserMetadata}
		}
		res, err := c2.AppendToStream(ctxT(t), last.stream, esdb.AppendToStreamOptions{}, retry...)
		if err != nil {
			t.Fatalf("retry of the last acknowledged batch: %v", err)
		}
		if want := all[at[last.ids[2]]].Position.Commit; res.CommitPosition != want {
			t.Errorf("retry answered position %d, original %d", res.CommitPosition, want)
		}
		if again := readAll(t, c2, esdb.ReadAllOptions{}, 1<<40); len(again) != len(all) {
			t.Errorf("retry after restart wrote %d events", len(again)-len(all))
		}
		if _, err := c2.AppendToStream(ctxT(t), "after-kill", esdb.AppendToStreamOptions{}, ev("Alive", `{}`)); err != nil {
			t.Fatalf("append after restart: %v", err)
		}
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
