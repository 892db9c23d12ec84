// Package metering rebuilds the licence state of a QlikView Server from its
// session logs.
//
// The logs hold one line per finished session, but administrators and
// billing ask about state: who holds which CAL and since when, whose CAL has
// been idle long enough to remove and when it would really be free, how many
// Analyzer Capacity minutes each UTC month burned, how close Session and
// Usage CALs came to running out, and whether a smaller or different licence
// would have been enough. The server keeps none of that history, so the
// engine replays the sessions through the rules of docs/licensing.md (what
// this package's comments call "the spec"):
//
//   - Reconstruct (the default) trusts the CAL Type each line records and
//     rebuilds holders, the capacity ledger, session-CAL concurrency, usage-CAL
//     availability, and the anomalies a correct server on the licence could
//     not have produced.
//   - Simulate ignores the logged CAL Type and assigns licences in the
//     server's order against a licence file (today's or a proposed one),
//     reporting every session that would have been denied.
//
// Every rule is a pure function of the sessions and an explicit as-of time;
// nothing here reads the clock. The Engine takes sessions in session_end
// order (the order the logs are written in) and re-sorts by session_start
// only what needs start order (session-CAL concurrency, and every session in
// simulate mode) through a buffer bounded by the longest session, so memory
// grows with users, documents and clients, not with sessions; the capacity
// table, the one that grows with the history, is kept compact and written
// block by block (README.md "Memory and speed").
//
// Each licensing rule lives in one file (holders.go, session_cals.go,
// usage_cals.go, capacity.go, forecast.go, quarantine.go, revoke.go,
// simulate.go, eras.go, excluded_accounts.go, implausible.go, overflow.go,
// pool.go), and its datadriven scenarios in testdata/scenarios are named
// like it: README.md "Where each rule lives" maps them.
package metering
