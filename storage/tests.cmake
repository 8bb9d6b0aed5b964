# Storage tests, beside the code in src/. Included from storage/CMakeLists.txt; the tests may use
# the internal headers in src/ (to craft damaged files), so they see src/ and HDF5 too.
phasesweep_add_test(storage_test
  SOURCES
    src/analysis_tables_test.cc
    src/bad_input_test.cc
    src/commands_test.cc
    src/reader_test.cc
    src/recipe_test.cc
    src/disk_full_test.cc
    src/writer_test.cc
  LIBS phasesweep::storage phasesweep_hdf5
  LABELS unit
  TIMEOUT 120)
target_include_directories(storage_test PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)

# Crash safety: crash_test kills storage_crash_writer (a separate process) with SIGKILL at 24
# random moments and checks the file after each kill.
add_executable(storage_crash_writer src/crash_writer_main.cc)
target_link_libraries(storage_crash_writer PRIVATE phasesweep::storage phasesweep::warnings)
phasesweep_add_test(storage_crash_test
  SOURCES src/crash_test.cc
  LIBS phasesweep::storage
  LABELS unit
  TIMEOUT 120)
add_dependencies(storage_crash_test storage_crash_writer)
target_compile_definitions(storage_crash_test PRIVATE
  PHASESWEEP_CRASH_WRITER="$<TARGET_FILE:storage_crash_writer>")
