package esdbnode

import "errors"

var (
	// ErrCorrupt means a stored record or the file itself failed its checksum or structure check. The node
	// refuses to serve the damaged data; restore the data directory from a backup or copy the history out of
	// an intact replica. Never delete the file to "fix" it: it is the store of record.
	ErrCorrupt = errors.New("esdbnode: data file is corrupt")

	// ErrForeign means the file at the data path is not an esdbnode store (not bbolt at all, or a bbolt file
	// written by another program). The node will not touch it; point Config.Dir at the right directory.
	ErrForeign = errors.New("esdbnode: data file is not an esdbnode store")

	// ErrUnsupportedFormat means the store was written by a newer (or unknown) version of esdbnode. Run the
	// version that wrote it; this one will not guess at a layout it does not know.
	ErrUnsupportedFormat = errors.New("esdbnode: unsupported data format version")

	// ErrLocked means another process holds the data file open. Only one node may own a directory; stop the
	// other one first.
	ErrLocked = errors.New("esdbnode: data file is locked by another process")

	// ErrClosed is returned for work submitted after Close started.
	ErrClosed = errors.New("esdbnode: node is closed")
)
