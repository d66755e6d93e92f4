package esdbnode

import (
	"os"

	"golang.org/x/sys/unix"
)

// fadviseWillNeed asks for bytes [from, to) of f, 128 KiB at a time: the kernel reads at most its
// read-ahead size (read_ahead_kb, 128 KiB at the least) for each advice, however large the range asked
// (one advice for a 1.1 GB file brought 8 MB into the cache). Each advice only queues the reads.
func fadviseWillNeed(f *os.File, from, to int64) error {
	const window = 128 << 10
	for off := from; off < to; off += window {
		if err := unix.Fadvise(int(f.Fd()), off, min(window, to-off), unix.FADV_WILLNEED); err != nil {
			return err
		}
	}
	return nil
}
