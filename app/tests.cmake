# Tests of the `phasesweep` program as a whole, beside its main (the executable end to end, several
# ranks under mpirun, Slurm, the device scripts). Included from app/CMakeLists.txt; each library's
# own tests sit beside its code.
phasesweep_add_test(cli_test SOURCES cli_test.cc test_process.cc LABELS e2e)
target_compile_definitions(cli_test PRIVATE PHASESWEEP_EXE="$<TARGET_FILE:phasesweep>")
add_dependencies(cli_test phasesweep)
# The command-line wiring of stats, status, export and analyze (app/), on the executable.
phasesweep_add_test(cli_stats_test SOURCES cli_stats_test.cc test_process.cc LABELS e2e TIMEOUT 300)
target_compile_definitions(cli_stats_test PRIVATE PHASESWEEP_EXE="$<TARGET_FILE:phasesweep>")
add_dependencies(cli_stats_test phasesweep)

# `phasesweep` with faults injected into run's pack executor, for the failure-handling tests.
add_executable(phasesweep_faults fault_injection_main.cc)
target_link_libraries(phasesweep_faults PRIVATE phasesweep::cli phasesweep::warnings)

phasesweep_add_test(run_e2e_test
                    SOURCES run_e2e_test.cc data_parallel_e2e_test.cc test_process.cc traces.cc
                    LIBS phasesweep::storage LABELS e2e mpi TIMEOUT 600)
target_compile_definitions(run_e2e_test PRIVATE PHASESWEEP_EXE="$<TARGET_FILE:phasesweep>"
                                               PHASESWEEP_FAULTS_EXE="$<TARGET_FILE:phasesweep_faults>"
                                               MPIEXEC="${MPIEXEC_EXECUTABLE}")
add_dependencies(run_e2e_test phasesweep phasesweep_faults)

# Positive controls of the whole chain on a tiny grokking sweep (a few minutes on 2 cores).
phasesweep_add_test(positive_controls_test SOURCES positive_controls_test.cc test_process.cc
                    LIBS phasesweep::storage LABELS e2e slow TIMEOUT 1200)
target_compile_definitions(positive_controls_test PRIVATE PHASESWEEP_EXE="$<TARGET_FILE:phasesweep>")
add_dependencies(positive_controls_test phasesweep)

# `run --shard` slices and `phasesweep merge` (job arrays), without Slurm.
phasesweep_add_test(shard_e2e_test SOURCES shard_e2e_test.cc test_process.cc traces.cc
                    LIBS phasesweep::storage LABELS e2e mpi TIMEOUT 600)
target_compile_definitions(shard_e2e_test PRIVATE PHASESWEEP_EXE="$<TARGET_FILE:phasesweep>"
                                                 MPIEXEC="${MPIEXEC_EXECUTABLE}")
add_dependencies(shard_e2e_test phasesweep)

# A real one-node Slurm (app/mini_cluster.sh) running the generated scripts: sbatch,
# preemption by USR1 and by TERM with requeue, arrays and merge. Skips (exit 77) only when the
# daemons cannot run here (not root, packages missing).
phasesweep_add_test(slurm_test SOURCES slurm_test.cc test_process.cc traces.cc
                    LIBS phasesweep::storage LABELS slurm e2e TIMEOUT 900)
target_compile_definitions(slurm_test PRIVATE PHASESWEEP_EXE="$<TARGET_FILE:phasesweep>"
                                             MPIEXEC="${MPIEXEC_EXECUTABLE}"
                                             MINI_CLUSTER="${CMAKE_CURRENT_SOURCE_DIR}/mini_cluster.sh")
set_tests_properties(slurm_test PROPERTIES SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
add_dependencies(slurm_test phasesweep)

# The hand-written scripts in slurm/ parse, and each keeps the lines docs/SLURM.md promises.
add_test(NAME slurm_scripts_parse
         COMMAND bash -c "for f in '${PROJECT_SOURCE_DIR}'/slurm/*.sbatch; do bash -n \"$f\" && grep -q -- '--signal=B:USR1@' \"$f\" && grep -q -- '--requeue' \"$f\" && grep -q -- '--open-mode=append' \"$f\" && grep -q -- 'srun --mpi=pmix --cpus-per-task=' \"$f\" && grep -q -- '-eq 75' \"$f\" || { echo \"$f: missing a promised line or does not parse\"; exit 1; }; done")
set_tests_properties(slurm_scripts_parse PROPERTIES LABELS unit)

# Helpers for tests that train a config's packs in process and compare trajectories.
add_library(phasesweep_sweep_packs STATIC sweep_packs.cc)
target_include_directories(phasesweep_sweep_packs PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(phasesweep_sweep_packs PUBLIC phasesweep::orchestrator phasesweep::worker
                                             PRIVATE phasesweep::warnings)
target_compile_definitions(phasesweep_sweep_packs PRIVATE PHASESWEEP_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

# GPU tests (label gpu): run by scripts/device/check on the GPU machine; skip without CUDA.
phasesweep_add_test(device_gpu_test SOURCES device_gpu_test.cc
                    LIBS phasesweep_sweep_packs LABELS gpu TIMEOUT 600)
# Throughput of one pack on a device (scripts/device/check); a tool, not a test.
add_executable(device_throughput device_throughput.cc)
target_link_libraries(device_throughput PRIVATE phasesweep_sweep_packs phasesweep::warnings)

# scripts/device/build's bad inputs (bundle missing or from another Debian release, a LibTorch
# without CUDA for a CUDA build, ...): one line each, exit 2, before building.
add_test(NAME device_build_inputs COMMAND ${PROJECT_SOURCE_DIR}/scripts/device/tests/build_inputs_test.sh)
set_tests_properties(device_build_inputs PROPERTIES LABELS unit TIMEOUT 60)

# scripts/device/check --dry-run on the CPU: every step of the GPU proof that runs without a GPU
# (bundle/LibTorch checks, the GPU tests skipping with their reason, a short throughput run and
# the plain PyTorch baseline, summary.md), on this build's binaries.
add_test(NAME device_check_dry_run
         COMMAND ${CMAKE_COMMAND} -E env OUT=${PROJECT_BINARY_DIR}/device-check-dry-run
                 ${PROJECT_SOURCE_DIR}/scripts/device/check --dry-run --build ${PROJECT_BINARY_DIR})
set_tests_properties(device_check_dry_run PROPERTIES LABELS e2e TIMEOUT 120)

# The bare-machine proof: a debootstrapped Debian 12 root with only a compiler, CMake and
# python3-torch builds phasesweep from the bundle alone and runs the smoke sweep. Slow (a
# debootstrap and a full build on this machine's cores); skips (77) when not root or when
# debootstrap cannot reach the Debian mirror, and unless PHASESWEEP_CHROOT_PROOF=1 (it would add
# ~40 minutes to every test run and to CI).
add_test(NAME device_chroot_proof
         COMMAND ${PROJECT_SOURCE_DIR}/scripts/device/chroot-proof --if-enabled)
set_tests_properties(device_chroot_proof PROPERTIES LABELS "slow;device" TIMEOUT 5400
  SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
