# Uses ccache when it is installed: CI rebuilds the same LibTorch-heavy translation units often.
find_program(PHASESWEEP_CCACHE ccache)
if(PHASESWEEP_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${PHASESWEEP_CCACHE}")
  set(CMAKE_C_COMPILER_LAUNCHER "${PHASESWEEP_CCACHE}")
  message(STATUS "phasesweep: compiling through ccache (${PHASESWEEP_CCACHE})")
endif()
