// Package workload generates the governance history of a realistic district, for `ledger demo`,
// `serve --demo` (SeedIfEmpty) and the benchmarks: by default a district like 龙湾区 in the seeds — six
// streets, 78 urban communities (社区) and villages (村) with codes such as 330303001001 and paths such as
// 33/3303/330303/330303001/330303001001, their households and adult populations — over three years:
// the 2026 general elections (election committee, candidates, the list publicized at least seven days
// before the vote, the vote with its turnout, certification, the result disclosed, the new committee
// seated; now and then a resignation, a recall and a by-election), residents' assemblies at the start
// and end of every year with quorum, attendance, motions, votes and resolutions (major projects among
// them), quarterly joint meetings, minutes, a roster of about eight workers per community on posts of
// 三岗十八级 (hired, moved, trained twice a year) paid their basic pay monthly, performance pay quarterly
// and the annual bonus in January, and
// everyday spending from about 15 million yuan of operating funds a year, major projects approved
// against their resolutions and paid in instalments, payment, quarterly finance, affairs and party
// notices with residents' objections and their answers, five-step deliberation topics, semi-annual and
// exit audits, corrections and withdrawals. Individual payees, candidates, objectors and audited cadres
// carry fictitious personal data (names, 18-character ID numbers with a valid check digit in the
// fictitious prefecture 3399, phone numbers) in their "personal" objects only; notices name people
// masked (张*).
//
// Every event is a valid domain event: it is produced by the real aggregate's command method, with the
// facts its handler would look up (the rulebook in force, the community's figures, the resolution an
// approval cites, when a disclosed payment was paid), and wrapped by commands.Envelope exactly as the
// command executor wraps it, with ids derived from deterministic command ids and time from a virtual
// clock. A command the domain refused would stop the run with an error: none does. Some watch rules are
// broken on purpose so the alert engine has work (see Community.Planted and Stats.Planted): every
// district gets, in distinct communities where possible, a short candidate-list publicity, an
// undersized committee, too few full-time members, late minutes, under-funded operating funds, a major
// payment without a resolution, late payment, result and resolution disclosures — all recorded as
// breaches on events — and minutes, a payment disclosure and an audit result that never come, a skipped
// affairs notice, assembly and audit — deadlines for the engine to notice. A few more happen at random.
//
// Determinism: the same seed and options give byte-identical events, ids and order of every stream. Each
// community runs on its own random stream (PCG seeded by the seed and its code), so generating
// communities in parallel changes nothing. Appends run concurrently (Options.Concurrency): each waits
// for its stream's previous append and for the appends of the streams its commands read (so $all
// always has cause before effect), but streams interleave in $all as the store serves them. With
// Concurrency 1 the $all order is deterministic too. Stats.Digest fingerprints the content.
//
// Size: Options.Communities and Options.Years, or Options.Target (see its doc: whole districts of 78
// are added, or years when the communities are given, and the history stops within a quarter of an hour
// of simulated time after the target). A community-year is about 710 events in some 250 streams; the
// default district is about 168 000 events. The generator streams: it holds about one window of
// simulated time (a month) plus the appends in flight, whatever the size of the history.
package workload
