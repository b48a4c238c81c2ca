# The suite runs several tests at once (ctest -j). libgomp's idle threads spin-wait for the next
# parallel region (OpenBLAS's OpenMP build uses them for every BLAS call), and with more threads than
# free cores a short call then waits for a descheduled spinner: an 8-atom MD test took 54 s instead of
# 3.8 s on two busy cores. Tests therefore wait passively, as docs/hosts.md advises for shared machines.
set(ATOMFP_TEST_ENVIRONMENT OMP_WAIT_POLICY=passive)

# Adds ATOMFP_TEST_ENVIRONMENT to every test defined so far in the calling directory (call it last).
function(atomfp_set_test_environment)
  get_property(tests DIRECTORY PROPERTY TESTS)
  if(tests)
    set_property(TEST ${tests} APPEND PROPERTY ENVIRONMENT ${ATOMFP_TEST_ENVIRONMENT})
  endif()
endfunction()
