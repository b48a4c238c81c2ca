# Installs the build tree into a scratch prefix, then builds and runs downstream projects against it:
# C through find_package(atomfp) and through pkg-config, Fortran through find_package (atomfp::fortran),
# and the installed Python package.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "command failed (${result}): ${ARGV}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

function(expect_output pattern what)
  if(NOT run_output MATCHES "${pattern}")
    message(FATAL_ERROR "unexpected output from ${what}: ${run_output}")
  endif()
endfunction()

# Configures and builds the CMake project in `source` against the prefix and runs `program`.
function(build_downstream source build program pattern what)
  run(${CMAKE_COMMAND} -S "${source}" -B "${build}" -G "${CMAKE_GENERATOR}" "-DCMAKE_PREFIX_PATH=${prefix}")
  run(${CMAKE_COMMAND} --build "${build}")
  run("${build}/${program}")
  expect_output("${pattern}" "${what}")
endfunction()

run(${CMAKE_COMMAND} --install "${ATOMFP_BUILD_DIR}" --prefix "${prefix}")
build_downstream("${DOWNSTREAM_SOURCE}" "${WORK_DIR}/build" downstream "5 features" "the downstream program")

file(GLOB_RECURSE pc_files "${prefix}/*/atomfp.pc")
list(GET pc_files 0 pc_file)
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
execute_process(COMMAND pkg-config --cflags --libs atomfp OUTPUT_VARIABLE flags RESULT_VARIABLE result
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "pkg-config does not find atomfp in ${pc_dir}")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(cc "${DOWNSTREAM_SOURCE}/main.c" ${flags} -o "${WORK_DIR}/downstream_pkgconfig")
string(REGEX MATCH "-L([^ ;]+)" _ "${flags}")
set(ENV{LD_LIBRARY_PATH} "${CMAKE_MATCH_1}")
run("${WORK_DIR}/downstream_pkgconfig")
expect_output("5 features" "the pkg-config build")

if(WITH_FORTRAN)
  build_downstream("${DOWNSTREAM_SOURCE}/fortran" "${WORK_DIR}/build_fortran" downstream_fortran
                   "downstream fortran: atomfp .*, 5 features" "the downstream Fortran program")
endif()

# The installed Python package finds the installed library by itself.
if(PYTHON_INSTALL_DIR)
  set(site_dir "${prefix}/${PYTHON_INSTALL_DIR}")
  unset(ENV{LD_LIBRARY_PATH})
  unset(ENV{ATOMFP_LIBRARY})
  set(ENV{PYTHONPATH} "${site_dir}")
  run(${PYTHON} "${DOWNSTREAM_SOURCE}/check_installed_python.py")
  expect_output("installed python package: ${prefix}.* \\(3, " "the installed Python package (not run from the prefix?)")
endif()
