# Finds every third-party dependency once, as imported targets. An option that is ON means
# REQUIRED: nothing is silently downgraded.
find_package(Threads REQUIRED)
find_package(MPI REQUIRED COMPONENTS CXX)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Boost 1.74 REQUIRED)  # Boost.Math is header-only
find_package(HDF5 REQUIRED COMPONENTS C)

# LibTorch: Debian's CPU build, or a CUDA build found through CMAKE_PREFIX_PATH.
find_package(Torch REQUIRED)
# LibTorch's config exports flags (the C++ ABI macro) that every consumer must share.
separate_arguments(PHASESWEEP_TORCH_FLAGS UNIX_COMMAND "${TORCH_CXX_FLAGS}")
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES OR CUDA_FOUND)
  set(PHASESWEEP_TORCH_HAS_CUDA ON)
else()
  set(PHASESWEEP_TORCH_HAS_CUDA OFF)
endif()
message(STATUS "phasesweep: LibTorch ${Torch_VERSION} at ${TORCH_INSTALL_PREFIX}; CUDA in LibTorch: "
               "${PHASESWEEP_TORCH_HAS_CUDA}"
               " (GPU training needs a CUDA LibTorch: pass its prefix in CMAKE_PREFIX_PATH)")
add_library(phasesweep_torch INTERFACE)
target_link_libraries(phasesweep_torch INTERFACE torch)
target_compile_options(phasesweep_torch INTERFACE ${PHASESWEEP_TORCH_FLAGS})
# LibTorch headers are noisy under -Wextra -Wpedantic: treat them as system headers.
target_include_directories(phasesweep_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})

add_library(phasesweep_hdf5 INTERFACE)
target_include_directories(phasesweep_hdf5 SYSTEM INTERFACE ${HDF5_C_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
target_link_libraries(phasesweep_hdf5 INTERFACE ${HDF5_C_LIBRARIES})
target_compile_definitions(phasesweep_hdf5 INTERFACE ${HDF5_C_DEFINITIONS} ${HDF5_DEFINITIONS})

# NCCL backend: needs the CUDA toolkit (runtime API) and NCCL, not a CUDA LibTorch.
string(TOUPPER "${PHASESWEEP_WITH_NCCL}" _nccl_mode)
if(NOT _nccl_mode MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "PHASESWEEP_WITH_NCCL must be AUTO, ON or OFF, not '${PHASESWEEP_WITH_NCCL}'")
endif()
set(PHASESWEEP_HAVE_NCCL OFF)
if(NOT _nccl_mode STREQUAL "OFF")
  find_package(CUDAToolkit QUIET)
  set(_nccl_hints $ENV{NCCL_HOME} ${NCCL_HOME} ${CUDAToolkit_LIBRARY_ROOT} ${CUDAToolkit_TARGET_DIR})
  find_path(PHASESWEEP_NCCL_INCLUDE_DIR nccl.h HINTS ${_nccl_hints} ${CUDAToolkit_INCLUDE_DIRS}
            PATH_SUFFIXES include)
  find_library(PHASESWEEP_NCCL_LIBRARY nccl HINTS ${_nccl_hints} ${CUDAToolkit_LIBRARY_DIR}
               PATH_SUFFIXES lib lib64)
  set(_nccl_missing "")
  if(NOT CUDAToolkit_FOUND)
    list(APPEND _nccl_missing "the CUDA toolkit (set CUDAToolkit_ROOT, or put nvcc on PATH)")
  endif()
  if(NOT PHASESWEEP_NCCL_INCLUDE_DIR OR NOT PHASESWEEP_NCCL_LIBRARY)
    list(APPEND _nccl_missing "NCCL (nccl.h and libnccl; set NCCL_HOME)")
  endif()
  if(_nccl_missing)
    list(JOIN _nccl_missing " and " _nccl_missing_text)
    if(_nccl_mode STREQUAL "ON")
      message(FATAL_ERROR "PHASESWEEP_WITH_NCCL=ON but ${_nccl_missing_text} not found. "
                          "Install them, point CMake at them, or configure with -DPHASESWEEP_WITH_NCCL=OFF.")
    endif()
    message(STATUS "phasesweep: NCCL backend OFF (AUTO): ${_nccl_missing_text} not found")
  else()
    set(PHASESWEEP_HAVE_NCCL ON)
    add_library(phasesweep_nccl INTERFACE)
    target_include_directories(phasesweep_nccl SYSTEM INTERFACE ${PHASESWEEP_NCCL_INCLUDE_DIR})
    target_link_libraries(phasesweep_nccl INTERFACE ${PHASESWEEP_NCCL_LIBRARY} CUDA::cudart)
    message(STATUS "phasesweep: NCCL backend ON (${_nccl_mode}): ${PHASESWEEP_NCCL_LIBRARY}, "
                   "CUDA toolkit ${CUDAToolkit_VERSION}")
  endif()
endif()

# Precompiled LibTorch headers: parsing torch/torch.h dominates every translation unit that
# includes it. Each library compiles the header once; its tests reuse that PCH.
# Even with the PCH, each LibTorch source costs ~30 CPU-seconds (loading the PCH, emitting the
# same inline LibTorch code again), so these libraries are also unity builds: sources are
# compiled in batches of up to PHASESWEEP_UNITY_BATCH (one batch of 10 worker sources measured 38
# CPU-seconds against ~300 one by one). Sources with their own compile flags (the vectorised
# kernels) are left out of the batches by CMake and compile alone. Results are unchanged: the
# batched sources are compiled for the baseline target, where nothing is contracted into an FMA.
# PHASESWEEP_UNITY_BATCH=1 compiles every source alone (clearer compiler errors while editing).
set(PHASESWEEP_UNITY_BATCH 12 CACHE STRING "Sources per unity batch in the LibTorch libraries")
function(phasesweep_torch_pch target)
  target_precompile_headers(${target} PRIVATE <torch/torch.h>)
  if(PHASESWEEP_UNITY_BATCH GREATER 1)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON
                                               UNITY_BUILD_BATCH_SIZE ${PHASESWEEP_UNITY_BATCH})
  endif()
endfunction()

# Adds a GoogleTest executable as ONE ctest test with labels:
#   phasesweep_add_test(NAME SOURCES ... LIBS ... LABELS ... [TIMEOUT s])
# One process per executable, not per test case: loading LibTorch costs seconds per process,
# which would dominate CI if every case were its own process. gtest's output names the failing
# case; `ctest -R NAME --output-on-failure` or `NAME --gtest_filter=...` narrows it down.
find_package(GTest REQUIRED)
function(phasesweep_add_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest_main phasesweep::warnings)
  target_compile_definitions(${name} PRIVATE
    PHASESWEEP_SOURCE_DIR="${PROJECT_SOURCE_DIR}" PHASESWEEP_BINARY_DIR="${PROJECT_BINARY_DIR}")
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT})
endfunction()

# Runs an already-built test executable under `mpirun -np N` for each N given:
#   phasesweep_add_mpi_test(TARGET exe NP 1 2 4 [LABELS ...] [TIMEOUT s] [ARGS ...])
# Ranks beyond the cores are oversubscribed; as root Open MPI needs the two ALLOW variables.
function(phasesweep_add_mpi_test)
  cmake_parse_arguments(T "" "TARGET;TIMEOUT" "NP;LABELS;ARGS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  foreach(np IN LISTS T_NP)
    set(name ${T_TARGET}_np${np})
    add_test(NAME ${name}
             COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${np} --oversubscribe
                     $<TARGET_FILE:${T_TARGET}> ${T_ARGS})
    set_tests_properties(${name} PROPERTIES
      LABELS "mpi;${T_LABELS}" TIMEOUT ${T_TIMEOUT} PROCESSORS ${np}
      ENVIRONMENT "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_rmaps_base_oversubscribe=1")
  endforeach()
endfunction()
