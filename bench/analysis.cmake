# Analysis benchmarks (owned by the analysis area; not part of ctest): PELT (l2) on 10^5 points
# and AnalyzeSweep on 10^4 traces x 500 probe steps. Figures and commands in bench/README.md,
# "## Analysis".
add_executable(phasesweep_bench_analysis_pelt ${CMAKE_CURRENT_LIST_DIR}/analysis_pelt.cc)
target_link_libraries(phasesweep_bench_analysis_pelt PRIVATE phasesweep::statistics
                                                              phasesweep::warnings)
add_executable(phasesweep_bench_analysis_sweep ${CMAKE_CURRENT_LIST_DIR}/analysis_sweep.cc)
target_link_libraries(phasesweep_bench_analysis_sweep PRIVATE phasesweep::analysis
                                                               phasesweep::warnings)
# The PELT benchmark times the transcribed ruptures loop (an internal function) as its baseline.
target_include_directories(phasesweep_bench_analysis_pelt
                           PRIVATE ${PROJECT_SOURCE_DIR}/analysis/src)
