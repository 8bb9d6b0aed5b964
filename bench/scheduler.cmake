# Scheduler overhead benchmark (owned by the orchestrator area): the real pull-queue scheduler
# with sleep-based fake packs, no LibTorch. Run:
#   mpirun --oversubscribe -np 4 bench/phasesweep_bench_scheduler --packs 2000 --pack-ms 50
add_executable(phasesweep_bench_scheduler
  ${CMAKE_CURRENT_LIST_DIR}/scheduler_overhead.cc
  ${PROJECT_SOURCE_DIR}/orchestrator/src/scheduler.cc
  ${PROJECT_SOURCE_DIR}/orchestrator/src/signals.cc)
target_include_directories(phasesweep_bench_scheduler PRIVATE
                           ${PROJECT_SOURCE_DIR}/orchestrator/include)
target_link_libraries(phasesweep_bench_scheduler PRIVATE phasesweep::base MPI::MPI_CXX
                                                         phasesweep::warnings)
