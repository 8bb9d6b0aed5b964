# Storage benchmark (owned by the storage area): write 10,000 jobs x 500 probes x 20 metrics
# through shards + merges, then time the ledger and reading one metric across all jobs.
# Run: bench/phasesweep_bench_storage [--dir /tmp/x] (figures in bench/README.md, "## Storage").
add_executable(phasesweep_bench_storage ${CMAKE_CURRENT_LIST_DIR}/storage_bench.cc)
target_link_libraries(phasesweep_bench_storage PRIVATE phasesweep::storage phasesweep::warnings)
