// Package kernel is the shared kernel of the governance domain: the Event
// contract and the event registry (wire names, schema versions, upcasters),
// domain errors, money in fen, the identifiers every aggregate shares
// (community, person, jurisdiction path) and the watch-rule breach marker.
//
// It is pure: no I/O, no clock, no randomness, standard library only. Every
// other domain package imports it; it imports none of them.
package kernel
