//! Plans: the pure difference between the desired and the live state, ordered by a dependency
//! graph.
//!
//! This stage has not been built yet: `plan(desired, live) -> Plan`, a versioned, serialisable
//! value carrying a fingerprint of the live state it was computed from.
