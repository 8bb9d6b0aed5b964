# bench/run (the one-command benchmark driver): its statistics, table, JSON, FLOP count and perf
# parsing on tiny inputs, and its rejection of an unknown section. The benchmarks themselves are
# not part of ctest (bench/run takes ~20 minutes; bench/run --quick about a minute once built).
add_test(NAME bench_driver_logic
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/benchlib_test.py)
add_test(NAME bench_run_rejects_unknown_section
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/run --no-build --only headline,nonsense)
set_tests_properties(bench_run_rejects_unknown_section PROPERTIES
                     PASS_REGULAR_EXPRESSION "unknown section 'nonsense'; valid: headline, limit")
set_tests_properties(bench_driver_logic bench_run_rejects_unknown_section PROPERTIES LABELS bench)
