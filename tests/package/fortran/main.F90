program downstream_fortran
   use atomfp
   implicit none
   type(atomfp_descriptor) :: descriptor
   integer :: ierr
   call atomfp_descriptor_create('{"type": "acsf", "species": [1, 8], "cutoff": 3.0, "radial": [{"eta": 0.5}], ' // &
                                 '"angular": [{"eta": 0.1, "zeta": 1, "lambda": 1}]}', descriptor, ierr)
   if (ierr /= ATOMFP_OK) error stop 1
   print '(a, a, a, i0, a)', "downstream fortran: atomfp ", atomfp_version_string(), ", ", &
      atomfp_descriptor_feature_count(descriptor), " features"
   call atomfp_descriptor_free(descriptor)
end program
