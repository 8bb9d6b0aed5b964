# Worker throughput benchmark (figures and the command in bench/README.md, "## Worker").
add_executable(phasesweep_worker_bench ${CMAKE_CURRENT_LIST_DIR}/worker_bench.cc)
target_link_libraries(phasesweep_worker_bench PRIVATE phasesweep::worker phasesweep::warnings)
target_precompile_headers(phasesweep_worker_bench REUSE_FROM phasesweep_worker)
