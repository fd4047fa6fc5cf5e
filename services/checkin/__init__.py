"""The intake of scans: self check-ins, family check-ins, inspector reverse scans, check-outs."""
