# Probe mathematics (representation similarity, ranks, clustering) — filled by the probes issue.
