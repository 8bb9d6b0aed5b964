# Report benchmark (not part of ctest): `phasesweep report` on 10,000 jobs x 500 probes;
# bench/report_bench.sh adds the headless-Chromium load time. Figures in bench/README.md,
# "## Report".
add_executable(phasesweep_bench_report ${CMAKE_CURRENT_LIST_DIR}/report_bench.cc)
target_link_libraries(phasesweep_bench_report PRIVATE phasesweep::analysis phasesweep::storage
                                                       phasesweep::warnings)
