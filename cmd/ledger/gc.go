package main

import (
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/grassroots-ledger/ledger/infra/meminfo"
)

// gcPercent is the garbage collector's target for serve and rebuild: the heap may grow to four times what
// is live before a collection, instead of Go's default of twice. Both allocate much and keep little.
//
//   - serve's live heap is small (about 100 MB) and its bursts allocate much and keep little (an auditor's
//     as-of replay decodes ten thousand events and writes a report of a megabyte); at Go's default the
//     collector took about a fifth of serve's CPU in such a replay. Measured with ledger serve on a
//     two-community demo, an as-of replay of 11 282 events (three runs of ten alternated with the binary
//     before): 0.40–0.46 s → 0.35–0.37 s a request, serve's CPU 0.39–0.48 s → 0.32–0.37 s, its peak RSS
//     140–151 → 242–258 MB.
//   - rebuild decodes every event of the history once and hands it to every model, which turn it into
//     rows: a million-event rebuild of every model, eight pairs alternated with Go's default: the process's
//     CPU 16.2 → 13.7 s (medians), the command 21.0 → 19.8 s, its peak RSS 1.5–1.7 → 2.2–2.8 GB (with the
//     store's mapped file). A target of 200 saved less CPU, 500 no more time for more memory.
const gcPercent = 300

// gcSettings is how a command tunes the garbage collector.
type gcSettings struct {
	percent  int   // 0: leave GOGC as it is
	limit    int64 // soft memory limit in bytes; 0: leave GOMEMLIMIT as it is
	decision string
}

// tunedGC decides the collector settings from the environment and the memory the process may use (total,
// 0 when unknown). An operator's GOGC or GOMEMLIMIT is always kept. The higher target comes with a soft
// memory limit of a quarter of that memory (at least 256 MiB), so a heap that does grow makes the collector
// work harder again rather than take the machine's memory; with the memory unknown there is no limit to
// set, and Go's defaults stay.
func tunedGC(getenv func(string) string, total int64) gcSettings {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return gcSettings{decision: "GOGC or GOMEMLIMIT is set: the garbage collector is left as they say"}
	}
	if total <= 0 {
		return gcSettings{decision: "the memory available is unknown: Go's default garbage collector settings"}
	}
	limit := max(total/4, 256<<20)
	return gcSettings{percent: gcPercent, limit: limit,
		decision: "garbage collector target " + strconv.Itoa(gcPercent) + "%, soft memory limit " +
			strconv.FormatInt(limit>>20, 10) + " MiB (a quarter of the memory available; set GOGC or GOMEMLIMIT to choose)"}
}

// tuneGC applies tunedGC's settings to this process and logs them under the command's name.
func tuneGC(log *slog.Logger, command string) {
	s := tunedGC(os.Getenv, memoryAvailable())
	if s.percent > 0 {
		debug.SetGCPercent(s.percent)
	}
	if s.limit > 0 {
		debug.SetMemoryLimit(s.limit)
	}
	log.Info(command + ": " + s.decision)
}

// memoryAvailable is the memory this process may use: the machine's (MemTotal), or its control group's
// limit when lower (a container's). 0 when neither can be read.
func memoryAvailable() int64 {
	total, _ := meminfo.Field("MemTotal") // 0 when unknown
	// cgroup v2 ("max" when unlimited), then v1 (a huge number when unlimited).
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n
		}
	}
	return total
}
