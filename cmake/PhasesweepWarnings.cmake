# Warnings live on one INTERFACE target that every phasesweep target links privately, so third-party
# headers (LibTorch, HDF5) included as SYSTEM do not trip -Werror.
add_library(phasesweep_warnings INTERFACE)
add_library(phasesweep::warnings ALIAS phasesweep_warnings)
target_compile_options(phasesweep_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wno-unused-parameter>)
if(PHASESWEEP_WERROR)
  target_compile_options(phasesweep_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
endif()
