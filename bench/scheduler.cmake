# Scheduler overhead benchmark (owned by the orchestrator area): the real pull-queue scheduler
# (phasesweep::scheduler) with sleep-based fake packs, no LibTorch. Run:
#   mpirun --oversubscribe -np 4 bench/phasesweep_bench_scheduler --packs 2000 --pack-ms 50
add_executable(phasesweep_bench_scheduler ${CMAKE_CURRENT_LIST_DIR}/scheduler_overhead.cc)
target_link_libraries(phasesweep_bench_scheduler PRIVATE phasesweep::scheduler phasesweep::warnings)
