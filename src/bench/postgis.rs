//! The PostGIS peer for `civmap bench`: a throwaway PostgreSQL/PostGIS cluster on 127.0.0.1 and
//! the peer queries of shared/BENCHMARKS.md, measured in the same run as civmap.
