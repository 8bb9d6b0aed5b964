# Storage tests. Included from storage/CMakeLists.txt; the tests may use the internal headers in
# src/ (to craft damaged files), so they see src/ and HDF5 too.
phasesweep_add_test(storage_test
  SOURCES
    tests/bad_input_test.cc
    tests/commands_test.cc
    tests/reader_test.cc
    tests/disk_full_test.cc
    tests/writer_test.cc
  LIBS phasesweep::storage phasesweep_hdf5 CLI11::CLI11
  LABELS unit
  TIMEOUT 120)
target_include_directories(storage_test PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
