// Package esdbwire names the parts of the EventStoreDB protocol's event message (ReadResp, from
// streams.proto and shared.proto) that the ledger writes and reads by hand: the embedded node encodes
// events straight from its records (infra/esdbnode), the client side decodes them into the client's own
// types (infra/eventstore). Both sides check their bytes against the generated protobuf types.
package esdbwire

import (
	"errors"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers.
const (
	ReadRespEvent          protowire.Number = 1 // ReadResp.event
	ReadEventEvent         protowire.Number = 1 // ReadResp.ReadEvent.event
	ReadEventCommit        protowire.Number = 3 // ReadResp.ReadEvent.commit_position
	RecordedID             protowire.Number = 1 // RecordedEvent.id
	RecordedStream         protowire.Number = 2 // RecordedEvent.stream_identifier
	RecordedRevision       protowire.Number = 3
	RecordedPrepare        protowire.Number = 4
	RecordedCommit         protowire.Number = 5
	RecordedMetadata       protowire.Number = 6 // map<string,string>: repeated entry {1: key, 2: value}
	RecordedCustomMetadata protowire.Number = 7
	RecordedData           protowire.Number = 8
	MapKey                 protowire.Number = 1
	MapValue               protowire.Number = 2
	UUIDStructured         protowire.Number = 1
	UUIDString             protowire.Number = 2
	StructuredMost         protowire.Number = 1
	StructuredLeast        protowire.Number = 2
	StreamIdentifierName   protowire.Number = 3
)

// The keys of RecordedEvent.metadata that servers send with every event.
const (
	MetaType        = "type"
	MetaContentType = "content-type"
	MetaCreated     = "created" // ticks (100 ns) since the Unix epoch, in decimal
)

// Run is a run of one stream's consecutive events, to be appended at exactly its first revision, as a copy
// of another store's history hands it to an embedded node in its own process (esdbnode.Node.Import, used by
// eventstore.Copy) beside the protocol: what one Append call would carry.
type Run struct {
	Stream string
	First  uint64 // the revision of the first event; 0: the stream must not exist yet
	Events []RunEvent
}

// RunEvent is one event of a Run.
type RunEvent struct {
	ID          [16]byte
	Type        string
	ContentType string
	Data        []byte
	Metadata    []byte
}

// ErrWrongRevision is the refusal of a Run whose stream is not at the run's first revision.
var ErrWrongRevision = errors.New("the stream is not at the expected revision")
