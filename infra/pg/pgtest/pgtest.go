// Package pgtest runs a PostgreSQL cluster of a test's own, from the OS's server binaries, that the test
// may crash and start again: the outages the ledger must survive, on the real server.
package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Cluster is a throwaway cluster on a free loopback port, removed when the test ends.
type Cluster struct {
	tb     testing.TB
	bin    string
	dir    string
	port   int
	asUser []string // prefix that runs a command as the cluster's owner
}

// URL is the connection string of the cluster's postgres database.
func (c *Cluster) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

func (c *Cluster) run(args ...string) {
	c.tb.Helper()
	cmd := exec.Command(c.asUser[0], append(c.asUser[1:], args...)...)
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.tb.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Start starts the server (again) and waits until it accepts connections.
func (c *Cluster) Start() {
	c.tb.Helper()
	c.run(filepath.Join(c.bin, "pg_ctl"), "-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "log"), "-w", "-t", "60",
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=32MB", c.port, c.dir), "start")
}

// Crash stops the server the hard way: no shutdown checkpoint, the next start runs crash recovery.
func (c *Cluster) Crash() {
	c.tb.Helper()
	c.run(filepath.Join(c.bin, "pg_ctl"), "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop")
}

// Stop stops the server cleanly (a shutdown checkpoint; a standby keeps what it has).
func (c *Cluster) Stop() {
	c.tb.Helper()
	c.run(filepath.Join(c.bin, "pg_ctl"), "-D", filepath.Join(c.dir, "data"), "-m", "fast", "-w", "stop")
}

// Standby makes a hot standby of c (pg_basebackup streaming from c, read-only, on a port of its own),
// starts it, and removes it when the test ends. What c commits reaches the standby within moments;
// when c stops, the standby keeps serving what it has.
func (c *Cluster) Standby() *Cluster {
	c.tb.Helper()
	s := c.prepare(c.tb)
	c.run(filepath.Join(c.bin, "pg_basebackup"), "-h", "127.0.0.1", "-p", strconv.Itoa(c.port), "-U", "postgres",
		"-D", filepath.Join(s.dir, "data"), "-R", "-X", "stream", "--no-sync")
	s.Start()
	return s
}

// New initialises and starts a cluster on a free port.
func New(tb testing.TB) *Cluster {
	tb.Helper()
	c := (&Cluster{tb: tb}).prepare(tb)
	c.run(filepath.Join(c.bin, "initdb"), "-D", filepath.Join(c.dir, "data"), "--auth=trust", "-E", "UTF8", "-U", "postgres", "--no-sync")
	c.Start()
	return c
}

// prepare makes an empty cluster directory owned by the cluster's user and picks a free port; the
// cluster is stopped and removed when the test ends.
func (*Cluster) prepare(tb testing.TB) *Cluster {
	tb.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		tb.Fatal("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: run `make postgres` (apt-get install postgresql)")
	}
	slices.SortFunc(bins, func(a, b string) int { return versionOf(b) - versionOf(a) })
	c := &Cluster{tb: tb, bin: filepath.Dir(bins[0]), asUser: []string{"env"}}
	dir, err := os.MkdirTemp("", "ledgertest-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	c.dir = dir
	if os.Geteuid() == 0 { // initdb and postgres refuse to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			tb.Fatalf("running as root and there is no postgres user to run the cluster as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
		c.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	c.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	tb.Cleanup(func() {
		cmd := exec.Command(c.asUser[0], append(c.asUser[1:], filepath.Join(c.bin, "pg_ctl"), "-D", filepath.Join(dir, "data"), "-m", "immediate", "stop")...)
		cmd.Dir = "/"
		_ = cmd.Run()
		_ = os.RemoveAll(dir)
	})
	return c
}

func versionOf(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}
