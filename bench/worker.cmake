# Worker throughput benchmark (figures and the command in bench/README.md, "## Worker").
add_executable(phasesweep_worker_bench ${CMAKE_CURRENT_LIST_DIR}/worker_bench.cc)
target_link_libraries(phasesweep_worker_bench PRIVATE phasesweep::worker phasesweep::warnings)
target_precompile_headers(phasesweep_worker_bench REUSE_FROM phasesweep_worker)

# Probe overhead on the default study (figures in bench/README.md, "## Probes").
add_executable(phasesweep_probe_overhead ${CMAKE_CURRENT_LIST_DIR}/probe_overhead.cc)
target_link_libraries(phasesweep_probe_overhead PRIVATE phasesweep::orchestrator phasesweep::warnings)
target_precompile_headers(phasesweep_probe_overhead REUSE_FROM phasesweep_worker)
