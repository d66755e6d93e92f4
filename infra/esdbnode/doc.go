// Package esdbnode is the embedded, single-node EventStoreDB: a gRPC server speaking the subset of the
// EventStoreDB client protocol that the official Go client (github.com/EventStore/EventStore-Client-Go/v4)
// uses — append with expected revisions, reads of streams and $all, catch-up subscriptions with filters — on a
// durable bbolt file. The ledger's production code path talks to it through the same client it would use
// against a real EventStoreDB or KurrentDB cluster, so the two are interchangeable.
//
// Guarantees: an acknowledged append is fsynced; a multi-event append is atomic with contiguous revisions and
// $all positions; readers and subscribers never see an event before it is durable nor a later position before
// an earlier one; re-appending the same event ids at the same place returns the original result and writes
// nothing (a durable event-id index, not a cache). See format.go for the file layout, writer.go for group
// commit and the idempotency rules, index.go for how the indexes are maintained, and subscribe.go for how
// subscriptions pass from history to live without a gap or a duplicate.
//
// What a client sees that a reader of the EventStoreDB documentation might not expect:
//   - $all positions are event sequence numbers (1, 2, 3, …; commit = prepare), not byte offsets.
//   - Event ids are unique in the store: re-using ids of an earlier append anywhere but as an exact retry of
//     it is answered "wrong expected version" (see writer.go).
//   - A subscription sends one caught_up message when it first reaches the end of the history (the v4 client
//     surfaces it as SubscriptionEvent.CaughtUp); filtered $all subscriptions also send checkpoints.
//   - Delete, Tombstone, BatchAppend, persistent subscriptions, projections and gossip are not implemented
//     (the client reports ErrorCodeUnsupportedFeature).
//   - No TLS and no authentication: bind to loopback (the default) or put something in front.
package esdbnode
