! Without ierr, a failing call prints the library's message and stops the program (the test
! expects the message on the output and a non-zero exit status).
program test_error_stop
   use atomfp
   implicit none
   type(atomfp_descriptor) :: descriptor
   call atomfp_descriptor_create('{"type": "acsf", "species": [14], "cutoff": -1.0}', descriptor)
   print '(a)', "not reached: the program went on after an unhandled error"
end program
