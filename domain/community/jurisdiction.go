package community

import (
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// Jurisdiction is a node of the jurisdiction tree. The zero value is a node
// not yet registered.
type Jurisdiction struct {
	path kernel.JurisdictionPath
	name string
}

// JurisdictionStream is the stream of a node of the jurisdiction tree other than a community,
// jurisdiction-<code>-node, <code> being the last segment of its path.
func JurisdictionStream(path kernel.JurisdictionPath) string {
	return eventlog.StreamName("jurisdiction", path.Last(), "node")
}

// RehydrateJurisdiction rebuilds a node from its history.
func RehydrateJurisdiction(history []kernel.Event) *Jurisdiction {
	return kernel.Rehydrate(&Jurisdiction{}, history)
}

// Apply changes state only.
func (j *Jurisdiction) Apply(e kernel.Event) {
	if e, ok := e.(JurisdictionRegistered); ok {
		j.path, j.name = e.Path, e.Name
	}
}

// Exists reports whether the node is registered.
func (j *Jurisdiction) Exists() bool { return j.path != "" }

// Path returns the node's path.
func (j *Jurisdiction) Path() kernel.JurisdictionPath { return j.path }

// Errors of the jurisdiction tree.
var (
	ErrJurisdictionExists = kernel.Conflict("jurisdiction-already-registered", "该辖区已登记")
	ErrParentNotFound     = kernel.NotFound("parent-jurisdiction-not-found", "上级辖区尚未登记")
)

// Register records the node. parentExists is whether the handler found the
// parent node registered; the root level needs no parent.
func (j *Jurisdiction) Register(path kernel.JurisdictionPath, name string, parentExists bool, now time.Time) ([]kernel.Event, error) {
	if j.Exists() {
		return nil, ErrJurisdictionExists
	}
	if err := path.Validate("path"); err != nil {
		return nil, err
	}
	if err := kernel.Required(name, "name", "辖区名称"); err != nil {
		return nil, err
	}
	if path.Depth() > 1 && !parentExists {
		return nil, ErrParentNotFound
	}
	return []kernel.Event{JurisdictionRegistered{Path: path, Name: name, Level: path.Depth(), RegisteredAt: now.UTC()}}, nil
}
