# Installed binaries find libatomfp through an $ORIGIN-relative RUNPATH, so an installed tree works
# from any prefix, can be moved as a whole, and needs no LD_LIBRARY_PATH (docs/hosts.md).

# The RUNPATH entry that leads from <install_dir> (relative to the prefix) to the library directory.
function(atomfp_origin_rpath install_dir out_var)
  file(RELATIVE_PATH relative "/prefix/${install_dir}" "/prefix/${CMAKE_INSTALL_LIBDIR}")
  if(relative STREQUAL "")
    set(${out_var} "$ORIGIN" PARENT_SCOPE)
  else()
    set(${out_var} "$ORIGIN/${relative}" PARENT_SCOPE)
  endif()
endfunction()

# Sets the install RUNPATH of `target`, which is installed into `install_dir`.
function(atomfp_set_install_rpath target install_dir)
  atomfp_origin_rpath("${install_dir}" rpath)
  set_target_properties(${target} PROPERTIES INSTALL_RPATH "${rpath}")
endfunction()
