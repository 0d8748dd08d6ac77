# Imported targets for the libraries Debian ships without a CMake package:
# CAF 0.17 (libcaf-dev: core, io, openssl) and RE2 (libre2-dev). The build links these targets,
# so the exported overseerTargets.cmake names them instead of absolute paths,
# and overseerConfig.cmake includes this file to find them again on the
# consumer's machine.
function(overseer_import_library target name)
  if(TARGET ${target})
    return()
  endif()
  find_library(OVERSEER_LIBRARY_${name} ${name} REQUIRED)
  add_library(${target} UNKNOWN IMPORTED)
  set_target_properties(${target} PROPERTIES IMPORTED_LOCATION "${OVERSEER_LIBRARY_${name}}")
endfunction()

overseer_import_library(CAF::core caf_core)
# The middleman (BASP over TCP) and its TLS module: worker nodes (docs/cluster.md).
overseer_import_library(CAF::io caf_io)
overseer_import_library(CAF::openssl caf_openssl)
overseer_import_library(re2::re2 re2)
