# Probe mathematics (representation similarity, ranks, clustering, noise scale, sharpness,
# Fourier sparsity) and the `stats similarity|rank` commands on streams (app/ wires them): pure
# functions of tensors that the worker's trainer calls at probe steps. Included by worker/CMakeLists.txt.
add_library(phasesweep_probe_math STATIC
  ${CMAKE_CURRENT_LIST_DIR}/src/probe_math/representation_metrics.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/probe_math/representation_metrics_clustering.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/probe_math/representation_metrics_fourier.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/probe_math/representation_metrics_optimisation.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/stats_probe_commands.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/stats_probe_commands_csv.cc)
add_library(phasesweep::probe_math ALIAS phasesweep_probe_math)
target_include_directories(phasesweep_probe_math PUBLIC ${CMAKE_CURRENT_LIST_DIR}/include)
target_link_libraries(phasesweep_probe_math
  PUBLIC phasesweep_torch phasesweep::base
  PRIVATE phasesweep::warnings)
phasesweep_torch_pch(phasesweep_probe_math)

if(PHASESWEEP_BUILD_TESTS)
  phasesweep_add_test(phasesweep_probe_math_test
    SOURCES
      ${CMAKE_CURRENT_LIST_DIR}/src/probe_math/representation_metrics_test.cc
      ${CMAKE_CURRENT_LIST_DIR}/src/probe_math/representation_metrics_geometry_test.cc
      ${CMAKE_CURRENT_LIST_DIR}/src/stats_probe_commands_test.cc
    LIBS phasesweep_probe_math
    LABELS unit)
  target_precompile_headers(phasesweep_probe_math_test REUSE_FROM phasesweep_probe_math)
endif()
