# Storage tests. Included from storage/CMakeLists.txt; the tests may use the internal headers in
# src/ (to craft damaged files), so they see src/ and HDF5 too.
phasesweep_add_test(storage_test
  SOURCES
    tests/analysis_tables_test.cc
    tests/bad_input_test.cc
    tests/commands_test.cc
    tests/reader_test.cc
    tests/recipe_test.cc
    tests/disk_full_test.cc
    tests/writer_test.cc
  LIBS phasesweep::storage phasesweep_hdf5
  LABELS unit
  TIMEOUT 120)
target_include_directories(storage_test PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)

# Crash safety: crash_test kills storage_crash_writer (a separate process) with SIGKILL at 24
# random moments and checks the file after each kill.
add_executable(storage_crash_writer tests/crash_writer_main.cc)
target_link_libraries(storage_crash_writer PRIVATE phasesweep::storage phasesweep::warnings)
phasesweep_add_test(storage_crash_test
  SOURCES tests/crash_test.cc
  LIBS phasesweep::storage
  LABELS unit
  TIMEOUT 120)
add_dependencies(storage_crash_test storage_crash_writer)
target_compile_definitions(storage_crash_test PRIVATE
  PHASESWEEP_CRASH_WRITER="$<TARGET_FILE:storage_crash_writer>")
