# Collectives benchmark (owned by the collectives area): MPI backend allreduce vs raw
# MPI_Allreduce, and a gradient bucket-size sweep. Run: mpirun -np 2 bench/phasesweep_bench_collectives
add_executable(phasesweep_bench_collectives ${CMAKE_CURRENT_LIST_DIR}/collectives_allreduce.cc)
target_link_libraries(phasesweep_bench_collectives PRIVATE phasesweep::collectives
                                                           phasesweep::warnings)
target_precompile_headers(phasesweep_bench_collectives REUSE_FROM phasesweep_collectives)
