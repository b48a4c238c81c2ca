! Exercises every procedure of the Fortran module and compares its results with the same
! computation done directly through the C API (tests/interop/c_reference.c): equal bit for bit.
! Usage: atomfp_fortran_tests <Si model file> <scratch directory>
program test_module
   use, intrinsic :: iso_c_binding
   use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan
   use atomfp
   implicit none

   interface
      function reference_features(spec, n_atoms, positions, species, cell, features, gradients) &
         bind(c, name="reference_features")
         import :: c_char, c_int64_t, c_ptr, c_int32_t
         character(kind=c_char), intent(in) :: spec(*)
         integer(c_int64_t), value :: n_atoms
         type(c_ptr), value :: positions, species, cell, features, gradients
         integer(c_int32_t) :: reference_features
      end function
      function reference_spectrum(spec, n_atoms, positions, species, cell, center, flags, eigenvalues, &
                                  eigenvectors) bind(c, name="reference_spectrum")
         import :: c_char, c_int64_t, c_ptr, c_int32_t
         character(kind=c_char), intent(in) :: spec(*)
         integer(c_int64_t), value :: n_atoms
         type(c_ptr), value :: positions, species, cell
         integer(c_int64_t), value :: center
         integer(c_int32_t), value :: flags
         type(c_ptr), value :: eigenvalues, eigenvectors
         integer(c_int32_t) :: reference_spectrum
      end function
      function reference_manifold(spec, n_atoms, positions, species, center, options, max_frames, n_frames, &
                                  displacement, distances) bind(c, name="reference_manifold")
         import :: c_char, c_int64_t, c_ptr, c_int32_t
         character(kind=c_char), intent(in) :: spec(*)
         integer(c_int64_t), value :: n_atoms
         type(c_ptr), value :: positions, species
         integer(c_int64_t), value :: center
         character(kind=c_char), intent(in) :: options(*)
         integer(c_int64_t), value :: max_frames
         integer(c_int64_t), intent(out) :: n_frames
         type(c_ptr), value :: displacement, distances
         integer(c_int32_t) :: reference_manifold
      end function
      function reference_predict(model_path, n_atoms, positions, species, cell, energy, center_energies, forces, &
                                 virial) bind(c, name="reference_predict")
         import :: c_char, c_int64_t, c_ptr, c_int32_t
         character(kind=c_char), intent(in) :: model_path(*)
         integer(c_int64_t), value :: n_atoms
         type(c_ptr), value :: positions, species, cell, energy, center_energies, forces, virial
         integer(c_int32_t) :: reference_predict
      end function
      function reference_train_predict(config, n_structures, n_atoms, positions, species, cell, energies, forces, &
                                       energy, predicted_forces) bind(c, name="reference_train_predict")
         import :: c_char, c_int64_t, c_ptr, c_int32_t
         character(kind=c_char), intent(in) :: config(*)
         integer(c_int64_t), value :: n_structures, n_atoms
         type(c_ptr), value :: positions, species, cell, energies, forces, energy, predicted_forces
         integer(c_int32_t) :: reference_train_predict
      end function
   end interface

   character(len=*), parameter :: acsf_ch = '{"type": "acsf", "species": [1, 6], "cutoff": 4.0}'
   character(len=*), parameter :: soap_si = '{"type": "soap_power_spectrum", "species": [14], "cutoff": 4.0, ' // &
                                            '"max_radial": 4, "max_angular": 3}'
   integer :: checks = 0, failures = 0
   character(len=4096) :: model_path, scratch, legacy_model_path

   call get_command_argument(1, model_path)
   call get_command_argument(2, scratch)
   call get_command_argument(3, legacy_model_path)  ! a format version 1 file: no covariance, no ranges

   call test_version_and_status()
   call test_descriptor_against_c()
   call test_one_based_indices()
   call test_sensitivity_and_manifold()
   call test_model_against_c()
   call test_trainer_against_c()
   call test_errors()
   call test_frames()
   call test_feature_space()

   write (*, '(a, i0, a, i0, a)') "fortran module: ", checks - failures, " checks passed, ", failures, " failed"
   if (failures > 0) error stop 1

contains

   subroutine check(condition, what)
      logical, intent(in) :: condition
      character(len=*), intent(in) :: what
      checks = checks + 1
      if (.not. condition) then
         failures = failures + 1
         write (*, '(a)') "FAILED: "//what//" (last error: "//atomfp_last_error()//")"
      end if
   end subroutine

   ! An 8-atom diamond cell of Si, slightly distorted; cell(:, k) is lattice vector k.
   subroutine silicon(positions, species, cell, seed)
      real(c_double), intent(out) :: positions(3, 8), cell(3, 3)
      integer(c_int32_t), intent(out) :: species(8)
      integer, intent(in) :: seed
      real(c_double), parameter :: a = 5.431d0
      real(c_double), parameter :: basis(3, 8) = reshape([0d0, 0d0, 0d0, 0d0, .5d0, .5d0, .5d0, 0d0, .5d0, &
                                                          .5d0, .5d0, 0d0, .25d0, .25d0, .25d0, .25d0, .75d0, .75d0, &
                                                          .75d0, .25d0, .75d0, .75d0, .75d0, .25d0], [3, 8])
      integer :: i, k
      do i = 1, 8
         do k = 1, 3
            positions(k, i) = a * basis(k, i) + 0.05d0 * sin(7d0 * i + 3d0 * k + 1.3d0 * seed)
         end do
      end do
      species = 14
      cell = 0
      cell(1, 1) = a
      cell(2, 2) = a
      cell(3, 3) = a
   end subroutine

   ! A distorted methane: H, C, H, H, H (the carbon is atom 2, so that an index off by one shows).
   subroutine methane(positions, species)
      real(c_double), intent(out) :: positions(3, 5)
      integer(c_int32_t), intent(out) :: species(5)
      positions = reshape([0.62d0, 0.65d0, 0.60d0, 0.00d0, 0.02d0, -0.01d0, -0.66d0, -0.61d0, 0.63d0, &
                           -0.60d0, 0.64d0, -0.66d0, 0.64d0, -0.62d0, -0.61d0], [3, 5])
      species = [1, 6, 1, 1, 1]
   end subroutine

   subroutine test_version_and_status()
      integer :: major, minor, patch, ierr
      character(len=32) :: expected
      character(len=:), allocatable :: kernels
      integer :: k
      integer, parameter :: status_codes(12) = [ATOMFP_OK, ATOMFP_ERROR_INVALID_ARGUMENT, ATOMFP_ERROR_JSON, &
         ATOMFP_ERROR_BUFFER_TOO_SMALL, ATOMFP_ERROR_NEIGHBOURS, ATOMFP_ERROR_IO, ATOMFP_ERROR_FORMAT, &
         ATOMFP_ERROR_LINALG, ATOMFP_ERROR_OUT_OF_MEMORY, ATOMFP_ERROR_SPECIES, ATOMFP_ERROR_NOT_AVAILABLE, &
         ATOMFP_ERROR_INTERNAL]
      character(len=*), parameter :: status_names(12) = [character(len=29) :: "ATOMFP_OK", &
         "ATOMFP_ERROR_INVALID_ARGUMENT", "ATOMFP_ERROR_JSON", "ATOMFP_ERROR_BUFFER_TOO_SMALL", &
         "ATOMFP_ERROR_NEIGHBOURS", "ATOMFP_ERROR_IO", "ATOMFP_ERROR_FORMAT", "ATOMFP_ERROR_LINALG", &
         "ATOMFP_ERROR_OUT_OF_MEMORY", "ATOMFP_ERROR_SPECIES", "ATOMFP_ERROR_NOT_AVAILABLE", "ATOMFP_ERROR_INTERNAL"]
      call atomfp_version(major, minor, patch, ierr)
      call check(ierr == ATOMFP_OK, "atomfp_version returns ATOMFP_OK")
      write (expected, '(i0, ".", i0, ".", i0)') major, minor, patch
      call check(atomfp_version_string() == trim(expected), "atomfp_version_string matches atomfp_version")
      kernels = atomfp_descriptor_types(ierr)
      call check(ierr == ATOMFP_OK .and. index(kernels, '"type":"soap_power_spectrum"') > 0, "atomfp_descriptor_types")
      kernels = atomfp_simd_kernels()
      call check(kernels == "avx2" .or. index(kernels, "baseline") == 1, "atomfp_simd_kernels")
      ! Every constant of the module names the code the library gives that name.
      do k = 1, size(status_codes)
         call check(atomfp_status_name(status_codes(k)) == trim(status_names(k)), &
                    trim(status_names(k))//" matches the library")
      end do
   end subroutine

   subroutine test_descriptor_against_c()
      real(c_double), target :: positions(3, 8), cell(3, 3)
      integer(c_int32_t), target :: species(8)
      type(atomfp_descriptor) :: descriptor, copy
      type(atomfp_neighbours) :: list
      type(atomfp_system) :: system
      real(c_double), allocatable, target :: features(:, :), gradients(:, :, :), ref_features(:, :), &
                                             ref_gradients(:, :, :), weights(:, :), forces(:, :), explicit_forces(:, :)
      real(c_double) :: virial(3, 3)
      integer(c_int64_t) :: n_features, block, atom, k
      integer :: ierr, i, c

      call silicon(positions, species, cell, 1)
      call atomfp_descriptor_create(soap_si, descriptor, ierr)
      call check(ierr == ATOMFP_OK .and. atomfp_associated(descriptor), "descriptor_create")
      n_features = atomfp_descriptor_feature_count(descriptor)
      call check(n_features == 4 * 5 / 2 * 4, "feature count of a one-species power spectrum, n=4 l=3")
      call check(atomfp_descriptor_cutoff(descriptor) == 4.0d0, "descriptor_cutoff")
      call check(index(atomfp_descriptor_parameters(descriptor), '"max_angular":3') > 0, &
                 "descriptor_parameters is the canonical spec")
      call check(len(atomfp_descriptor_feature_label(descriptor, 1_c_int64_t)) > 0, "feature_label of feature 1")
      call atomfp_descriptor_create(atomfp_descriptor_parameters(descriptor), copy)
      call check(atomfp_descriptor_parameters(copy) == atomfp_descriptor_parameters(descriptor), &
                 "a descriptor made from the canonical spec has the same parameters")
      call atomfp_descriptor_free(copy)
      call check(.not. atomfp_associated(copy), "descriptor_free nullifies the handle")
      call atomfp_descriptor_free(copy)

      call atomfp_neighbours_build(positions, species, atomfp_descriptor_cutoff(descriptor), list, cell=cell)
      call atomfp_neighbours_system(list, system)
      call atomfp_neighbours_free(list)
      call check(atomfp_system_n_atoms(system) == 8 .and. atomfp_system_n_centers(system) == 8, "system sizes")
      call check(all(system%centers == [(i, i=1, 8)]), "a built list has every atom as a 1-based centre")
      call check(minval(system%neighbours) == 1 .and. maxval(system%neighbours) == 8, "neighbour indices are 1-based")

      allocate (features(n_features, 8), gradients(n_features, 3, atomfp_system_n_blocks(system)))
      allocate (ref_features(n_features, 8), ref_gradients(n_features, 3, atomfp_system_n_blocks(system)))
      call atomfp_descriptor_compute(descriptor, system, features, gradients, ierr=ierr)
      call check(ierr == ATOMFP_OK, "descriptor_compute")
      call check(reference_features(soap_si//c_null_char, 8_c_int64_t, c_loc(positions), c_loc(species), c_loc(cell), &
                                    c_loc(ref_features), c_loc(ref_gradients)) == ATOMFP_OK, "C reference features")
      call check(all(features == ref_features), "features equal the C API's bit for bit")
      call check(all(gradients == ref_gradients), "gradients equal the C API's bit for bit")
      ! The centre block of each centre is minus the sum of its pair blocks (translation invariance),
      ! which holds only if the block layout (n_features, 3, n_blocks) is read correctly.
      call check(maxval(abs(gradients(:, :, 1 + 0) + sum(gradients(:, :, 2:1 + system%offsets(2)), dim=3))) < 1d-10, &
                 "centre block = -sum of pair blocks")
      call atomfp_descriptor_compute(descriptor, system, features=features, ierr=ierr)
      call check(ierr == ATOMFP_OK .and. all(features == ref_features), "features without gradients")

      ! The vector-Jacobian product against the explicit gradient blocks summed per atom.
      allocate (weights(n_features, 8), forces(3, 8), explicit_forces(3, 8))
      weights = reshape([(sin(0.37d0 * i), i=1, int(8 * n_features))], [n_features, 8_c_int64_t])
      explicit_forces = 0
      do c = 1, 8
         block = c + system%offsets(c)
         atom = system%centers(c)
         do k = 0, system%offsets(c + 1) - system%offsets(c)
            if (k > 0) atom = system%neighbours(system%offsets(c) + k)
            explicit_forces(:, atom) = explicit_forces(:, atom) - matmul(weights(:, c), gradients(:, :, block + k))
         end do
      end do
      features = 0
      call atomfp_descriptor_contract(descriptor, system, weights, features=features, forces=forces, virial=virial, &
                                      ierr=ierr)
      call check(ierr == ATOMFP_OK .and. all(features == ref_features), "descriptor_contract: features")
      call check(maxval(abs(forces - explicit_forces)) < 1d-11 * maxval(abs(explicit_forces)), &
                 "descriptor_contract: forces = -weights . gradients, summed per atom")
      call check(maxval(abs(virial - transpose(virial))) < 1d-10 * maxval(abs(virial)), &
                 "descriptor_contract: the virial of a rotation-invariant function is symmetric")
      call atomfp_descriptor_contract(descriptor, system, weights(:, 1:7), forces=forces, ierr=ierr)
      call check(ierr == ATOMFP_ERROR_INVALID_ARGUMENT, "descriptor_contract: weights of the wrong shape")
      call atomfp_descriptor_free(descriptor)
   end subroutine

   ! A neighbour list written by hand with 1-based indices, centres 2 and 4 only: the result must
   ! equal rows 2 and 4 of the C API's full computation (0-based centres 1 and 3). Reading either
   ! index array off by one describes other atoms or points past the last atom.
   subroutine test_one_based_indices()
      real(c_double), target :: positions(3, 5)
      integer(c_int32_t), target :: species(5)
      type(atomfp_descriptor) :: descriptor
      type(atomfp_system) :: system
      real(c_double), allocatable, target :: features(:, :), ref_features(:, :)
      integer(c_int64_t) :: n_features
      integer :: ierr

      call methane(positions, species)
      call atomfp_descriptor_create(acsf_ch, descriptor)
      n_features = atomfp_descriptor_feature_count(descriptor)
      system%positions = positions
      system%species = species
      system%centers = [2_c_int64_t, 4_c_int64_t]
      system%offsets = [0_c_int64_t, 4_c_int64_t, 8_c_int64_t]
      system%neighbours = [1_c_int64_t, 3_c_int64_t, 4_c_int64_t, 5_c_int64_t, 1_c_int64_t, 2_c_int64_t, &
                           3_c_int64_t, 5_c_int64_t]
      allocate (features(n_features, 2), ref_features(n_features, 5))
      call atomfp_descriptor_compute(descriptor, system, features, ierr=ierr)
      call check(ierr == ATOMFP_OK, "compute on a hand-written 1-based list")
      call check(reference_features(acsf_ch//c_null_char, 5_c_int64_t, c_loc(positions), c_loc(species), c_null_ptr, &
                                    c_loc(ref_features), c_null_ptr) == ATOMFP_OK, "C reference of the cluster")
      call check(all(features(:, 1) == ref_features(:, 2)), "centre 2 (1-based) is the carbon")
      call check(all(features(:, 2) == ref_features(:, 4)), "centre 4 (1-based) is the third hydrogen")
      call check(any(ref_features(:, 2) /= ref_features(:, 3)) .and. any(ref_features(:, 4) /= ref_features(:, 5)), &
                 "neighbouring rows differ, so an off-by-one would show")

      ! Index 6 does not exist: 1-based indices run to n_atoms = 5.
      system%neighbours(4) = 6
      call atomfp_descriptor_compute(descriptor, system, features, ierr=ierr)
      call check(ierr == ATOMFP_ERROR_NEIGHBOURS, "neighbour index n_atoms + 1 is rejected")
      system%neighbours(4) = 0
      call atomfp_descriptor_compute(descriptor, system, features, ierr=ierr)
      call check(ierr == ATOMFP_ERROR_NEIGHBOURS, "neighbour index 0 is rejected")
      call atomfp_descriptor_free(descriptor)
   end subroutine

   subroutine test_sensitivity_and_manifold()
      real(c_double), target :: positions(3, 5)
      integer(c_int32_t), target :: species(5)
      type(atomfp_descriptor) :: descriptor
      type(atomfp_descriptor) :: probes(1)
      type(atomfp_system) :: system
      real(c_double), allocatable, target :: matrix(:, :), eigenvalues(:), eigenvectors(:, :), ref_values(:), &
                                             ref_vectors(:, :), displacement(:), distances(:, :), ref_displacement(:), &
                                             ref_distances(:, :), frames(:, :, :), spectra(:, :), &
                                             random_distances(:, :)
      integer(c_int32_t), allocatable :: environment_species(:)
      integer(c_int64_t) :: n, n_frames, ref_n_frames, k
      real(c_double) :: blind_index(2)
      integer(c_int64_t) :: blind_below(2)
      integer :: ierr
      character(len=*), parameter :: options = '{"steps": 6, "random_samples": 3}'

      call methane(positions, species)
      call atomfp_descriptor_create(acsf_ch, descriptor)
      system%positions = positions
      system%species = species
      system%centers = [4_c_int64_t, 2_c_int64_t]
      system%offsets = [0_c_int64_t, 4_c_int64_t, 8_c_int64_t]
      system%neighbours = [1_c_int64_t, 2_c_int64_t, 3_c_int64_t, 5_c_int64_t, 1_c_int64_t, 3_c_int64_t, &
                           4_c_int64_t, 5_c_int64_t]
      ! centre 2 of this system is atom 2 (the carbon); 0-based centre 1 of the C reference's full list.
      n = atomfp_sensitivity_size(descriptor, system, 2_c_int64_t)
      call check(n == 5, "sensitivity_size: the carbon and four hydrogens")
      allocate (matrix(3 * n, 3 * n), eigenvalues(3 * n), eigenvectors(3 * n, 3 * n), ref_values(3 * n), &
                ref_vectors(3 * n, 3 * n))
      call atomfp_sensitivity_matrix(descriptor, system, 2_c_int64_t, 0, matrix)
      call check(maxval(abs(matrix - transpose(matrix))) <= 1d-12 * maxval(abs(matrix)), "S is symmetric")
      call atomfp_sensitivity_spectrum(descriptor, system, 2_c_int64_t, ATOMFP_SENSITIVITY_REMOVE_RIGID, eigenvalues, &
                                       eigenvectors)
      call check(reference_spectrum(acsf_ch//c_null_char, 5_c_int64_t, c_loc(positions), c_loc(species), c_null_ptr, &
                                    1_c_int64_t, int(ATOMFP_SENSITIVITY_REMOVE_RIGID, c_int32_t), c_loc(ref_values), &
                                    c_loc(ref_vectors)) == ATOMFP_OK, "C reference spectrum")
      call check(all(eigenvalues == ref_values) .and. all(eigenvectors == ref_vectors), &
                 "spectrum of centre 2 equals the C API's for the carbon")
      call check(all(eigenvalues(1:6) == 0) .and. eigenvalues(7) > 0, "six rigid modes first, as exact zeros")
      call atomfp_blind_spot_indices(descriptor, system, 1d-6, blind_index, blind_below, ierr)
      call check(ierr == ATOMFP_OK .and. abs(blind_index(2) - eigenvalues(7) / eigenvalues(3 * n)) <= 1d-12 .and. &
                 blind_below(2) == count(eigenvalues(7:) < 1d-6 * eigenvalues(3 * n)), &
                 "blind_spot_indices: the smallest non-rigid eigenvalue over the largest")
      ! eigenvector k is column k: S v_k = lambda_k v_k on the rigid-free subspace
      call atomfp_sensitivity_matrix(descriptor, system, 2_c_int64_t, ATOMFP_SENSITIVITY_REMOVE_RIGID, matrix)
      k = 3 * n
      call check(maxval(abs(matmul(matrix, eigenvectors(:, k)) - eigenvalues(k) * eigenvectors(:, k))) &
                 <= 1d-9 * eigenvalues(k), "eigenvectors are columns")

      allocate (displacement(7), distances(2, 7), ref_displacement(7), ref_distances(1, 7), frames(3, n, 7), &
                spectra(3 * n, 7), environment_species(n), random_distances(2, 7))
      call atomfp_descriptor_create('{"type": "soap_power_spectrum", "species": [1, 6], "cutoff": 4.0, ' // &
                                    '"max_radial": 4, "max_angular": 3}', probes(1))
      call atomfp_manifold_trace(descriptor, system, 2_c_int64_t, n_frames, probes=probes, options=options, &
                                 species=environment_species, positions=frames, eigenvalues=spectra, &
                                 displacement=displacement, distances=distances, random_distances=random_distances, &
                                 ierr=ierr)
      call check(ierr == ATOMFP_OK .and. n_frames == 7, "manifold_trace: 6 steps, 7 frames")
      call check(reference_manifold(acsf_ch//c_null_char, 5_c_int64_t, c_loc(positions), c_loc(species), 1_c_int64_t, &
                                    options//c_null_char, 7_c_int64_t, ref_n_frames, c_loc(ref_displacement), &
                                    c_loc(ref_distances)) == ATOMFP_OK, "C reference manifold")
      call check(ref_n_frames == n_frames .and. all(displacement == ref_displacement) .and. &
                 all(distances(1, :) == ref_distances(1, :)), "manifold equals the C API's")
      call check(all(environment_species == [6, 1, 1, 1, 1]), "environment species: the centre first")
      call check(distances(1, 7) < 0.1d0 * random_distances(1, 7), &
                 "along the manifold the fingerprint changes far less than under random moves of the same size")
      call check(all(spectra(1:6, :) == 0), "frame spectra start with the rigid zeros")

      call atomfp_manifold_trace(descriptor, system, 2_c_int64_t, n_frames, options=options, displacement=displacement(1:3), &
                                 ierr=ierr)
      call check(ierr == ATOMFP_ERROR_BUFFER_TOO_SMALL, "manifold_trace with 3 frames for 6 steps")
      call atomfp_descriptor_free(probes(1))
      call atomfp_descriptor_free(descriptor)
   end subroutine

   subroutine test_model_against_c()
      real(c_double), target :: positions(3, 8), cell(3, 3), forces(3, 8), ref_forces(3, 8), virial(3, 3), &
                                ref_virial(3, 3), energies(8), ref_energies(8)
      real(c_double), target :: energy, ref_energy, saved_energy
      integer(c_int32_t), target :: species(8)
      integer(c_int32_t), allocatable :: model_species(:)
      type(atomfp_model) :: model, reloaded
      type(atomfp_neighbours) :: list
      type(atomfp_system) :: system
      integer :: ierr

      call silicon(positions, species, cell, 2)
      call atomfp_model_load(trim(model_path), model, ierr)
      call check(ierr == ATOMFP_OK, "model_load of the shipped Si model")
      call atomfp_model_species(model, model_species)
      call check(size(model_species) == 1 .and. model_species(1) == 14, "model_species is [14]")
      call atomfp_neighbours_build(positions, species, atomfp_model_cutoff(model), list, cell=cell, &
                                   pbc=[.true., .true., .true.])
      call atomfp_neighbours_system(list, system)
      call atomfp_neighbours_free(list)
      call atomfp_model_predict(model, system, energy, energies, forces, virial, ierr)
      call check(ierr == ATOMFP_OK, "model_predict")
      call check(reference_predict(trim(model_path)//c_null_char, 8_c_int64_t, c_loc(positions), c_loc(species), &
                                   c_loc(cell), c_loc(ref_energy), c_loc(ref_energies), c_loc(ref_forces), &
                                   c_loc(ref_virial)) == ATOMFP_OK, "C reference prediction")
      call check(energy == ref_energy .and. all(energies == ref_energies), "energies equal the C API's")
      call check(all(forces == ref_forces) .and. all(virial == ref_virial), "forces and virial equal the C API's")
      call check(abs(sum(energies) - energy) <= 1d-12 * abs(energy), "centre energies sum to the energy")
      call check(maxval(abs(sum(forces, dim=2))) < 1d-10, "forces sum to zero")

      call atomfp_model_save(model, trim(scratch)//"/fortran_saved.afp", ierr)
      call check(ierr == ATOMFP_OK, "model_save")
      call atomfp_model_load(trim(scratch)//"/fortran_saved.afp", reloaded)
      call atomfp_model_predict(reloaded, system, saved_energy, energies, forces, virial)
      call check(saved_energy == energy, "a saved and reloaded model predicts the same energy")
      call atomfp_model_free(reloaded)
      call atomfp_model_free(model)
      call check(.not. atomfp_associated(model), "model_free nullifies the handle")
   end subroutine

   ! Trains on three distorted cells labelled by the shipped model, in Fortran and in C.
   subroutine test_trainer_against_c()
      integer, parameter :: n_structures = 3
      character(len=*), parameter :: config = '{"descriptor": ' // soap_si // ', "kernel": {"type": "polynomial", ' // &
                                              '"zeta": 2}, "sparse_per_species": 12, "sigma_energy": 0.001, ' // &
                                              '"sigma_forces": 0.02}'
      real(c_double), target :: positions(3, 8, n_structures), cell(3, 3), labels_forces(3, 8, n_structures), &
                                labels_energy(n_structures), forces(3, 8), ref_forces(3, 8)
      real(c_double), target :: energy, ref_energy, energy_variance, center_variances(8)
      real(c_double), target :: mean_weights(8), variance_gradient(3, 8), variance_virial(3, 3), moved(3, 8), &
                                plus, minus
      integer(c_int64_t) :: features_outside(8)
      integer(c_int32_t), target :: species(8)
      type(atomfp_model) :: labeller, model, legacy
      type(atomfp_trainer) :: trainer
      type(atomfp_neighbours) :: list
      type(atomfp_system) :: system, moved_system
      character(len=:), allocatable :: summary
      integer :: s, ierr

      call atomfp_model_load(trim(model_path), labeller)
      call atomfp_trainer_create(config, trainer, ierr)
      call check(ierr == ATOMFP_OK, "trainer_create")
      summary = atomfp_trainer_summary(trainer, ierr)
      call check(ierr == ATOMFP_ERROR_INVALID_ARGUMENT, "trainer_summary before a fit is an error")
      do s = 1, n_structures
         call silicon(positions(:, :, s), species, cell, 10 + s)
         call atomfp_neighbours_build(positions(:, :, s), species, atomfp_model_cutoff(labeller), list, cell=cell)
         call atomfp_neighbours_system(list, system)
         call atomfp_neighbours_free(list)
         call atomfp_model_predict(labeller, system, energy=labels_energy(s), forces=labels_forces(:, :, s))
         call atomfp_trainer_add_structure(trainer, positions(:, :, s), species, cell=cell, energy=labels_energy(s), &
                                           forces=labels_forces(:, :, s), ierr=ierr)
         call check(ierr == ATOMFP_OK, "trainer_add_structure")
      end do
      call check(atomfp_trainer_size(trainer) == n_structures, "trainer_size")
      ! A config_type the configuration gives no sigmas for groups, and changes nothing in the fit.
      call atomfp_trainer_set_structure_keys(trainer, 2_c_int64_t, '{"config_type": "hot"}', ierr)
      call check(ierr == ATOMFP_OK, "trainer_set_structure_keys")
      call atomfp_trainer_set_structure_keys(trainer, 0_c_int64_t, '{"config_type": "hot"}', ierr)
      call check(ierr == ATOMFP_ERROR_INVALID_ARGUMENT, "structure keys of structure 0 (structures are 1-based)")
      call atomfp_trainer_set_structure_keys(trainer, 1_c_int64_t, '{"force_sigma": -1}', ierr)
      call check(ierr == ATOMFP_ERROR_JSON .and. index(atomfp_last_error(), "force_sigma") > 0, &
                 "a negative force_sigma is ATOMFP_ERROR_JSON naming the key")
      call atomfp_trainer_train(trainer, model, ierr)
      call check(ierr == ATOMFP_OK, "trainer_train")
      summary = atomfp_trainer_summary(trainer)
      call check(index(summary, "{") == 1, "trainer_summary is JSON")
      summary = atomfp_model_header(model, ierr)
      call check(ierr == ATOMFP_OK .and. index(summary, '"settings"') > 0 .and. index(summary, '"config_types"') > 0, &
                 "model_header holds the recorded settings and config_type counts")
      call check(index(summary, '"hot":1') > 0, "the structure's config_type is counted")
      call check(index(summary, '"variance"') > 0, "a sparse-GPR model carries its posterior covariance")

      call atomfp_neighbours_build(positions(:, :, 1), species, atomfp_model_cutoff(model), list, cell=cell)
      call atomfp_neighbours_system(list, system)
      call atomfp_neighbours_free(list)
      call atomfp_model_predict(model, system, energy=energy, forces=forces)
      call check(reference_train_predict(config//c_null_char, int(n_structures, c_int64_t), 8_c_int64_t, &
                                         c_loc(positions), c_loc(species), c_loc(cell), c_loc(labels_energy), &
                                         c_loc(labels_forces), c_loc(ref_energy), c_loc(ref_forces)) == ATOMFP_OK, &
                 "C reference training")
      call check(energy == ref_energy .and. all(forces == ref_forces), "the trained model equals the C API's")
      call atomfp_model_predict_variance(model, system, center_variances, energy_variance, ierr)
      call check(ierr == ATOMFP_OK .and. all(center_variances > 0) .and. energy_variance > 0, &
                 "model_predict_variance gives positive variances")
      call atomfp_model_load(trim(legacy_model_path), legacy)
      call atomfp_model_predict_variance(legacy, system, energy_variance=energy_variance, ierr=ierr)
      call check(ierr == ATOMFP_ERROR_NOT_AVAILABLE, "a model file without a covariance has no variance")
      mean_weights = 1.0d0 / 8
      call atomfp_model_variance_gradient(model, system, mean_weights, variance_gradient, variance_virial, ierr)
      call check(ierr == ATOMFP_OK, "model_variance_gradient")
      do s = 1, 2
         moved = positions(:, :, 1)
         moved(2, 3) = moved(2, 3) + merge(1d-5, -1d-5, s == 1)
         call atomfp_neighbours_build(moved, species, atomfp_model_cutoff(model), list, cell=cell)
         call atomfp_neighbours_system(list, moved_system)
         call atomfp_neighbours_free(list)
         call atomfp_model_predict_variance(model, moved_system, center_variances)
         if (s == 1) plus = sum(center_variances) / 8
         if (s == 2) minus = sum(center_variances) / 8
      end do
      call check(abs(variance_gradient(2, 3) - (plus - minus) / 2d-5) <= 1d-6 * maxval(abs(variance_gradient)), &
                 "model_variance_gradient is the derivative of the mean variance")
      call atomfp_model_variance_gradient(model, system, mean_weights(1:7), variance_gradient, ierr=ierr)
      call check(ierr == ATOMFP_ERROR_INVALID_ARGUMENT, "model_variance_gradient checks the coefficients' shape")
      call atomfp_model_extrapolation(model, system, features_outside, ierr=ierr)
      call check(ierr == ATOMFP_OK .and. all(features_outside == 0), &
                 "model_extrapolation: a training structure stays inside the training ranges")
      call atomfp_model_extrapolation(legacy, system, features_outside, ierr=ierr)
      call check(ierr == ATOMFP_ERROR_NOT_AVAILABLE, "a model file without feature ranges has no extrapolation flags")
      call atomfp_model_free(legacy)
      call check(abs(energy - labels_energy(1)) < 0.05d0 * 8, "the fit reproduces a training energy")
      call atomfp_model_free(model)
      call atomfp_model_free(labeller)
      call atomfp_trainer_free(trainer)
      call check(.not. atomfp_associated(trainer), "trainer_free nullifies the handle")
   end subroutine

   subroutine test_errors()
      type(atomfp_descriptor) :: descriptor
      type(atomfp_model) :: model
      type(atomfp_system) :: system, empty
      type(atomfp_neighbours) :: list
      type(atomfp_trainer) :: trainer
      real(c_double), allocatable :: features(:, :)
      real(c_double) :: positions(3, 5), nan_positions(3, 5)
      integer(c_int32_t) :: species(5)
      character(len=:), allocatable :: label
      integer :: ierr, unit

      call atomfp_descriptor_create('{"type": "acsf", "species": [1, 6], "cutof": 4.0}', descriptor, ierr)
      call check(ierr == ATOMFP_ERROR_JSON, "a misspelt key is ATOMFP_ERROR_JSON")
      call check(index(atomfp_last_error(), "cutof") > 0, "the message names the key")
      call check(.not. atomfp_associated(descriptor), "no handle after a failed create")

      call atomfp_model_load(trim(scratch)//"/no_such_model.afp", model, ierr)
      call check(ierr == ATOMFP_ERROR_IO, "a missing model file is ATOMFP_ERROR_IO")
      call check(index(atomfp_last_error(), "no_such_model.afp") > 0, "the message names the file")
      open (newunit=unit, file=trim(scratch)//"/garbage.afp", status="replace", action="write")
      write (unit, '(a)') "this is not a model file"
      close (unit)
      call atomfp_model_load(trim(scratch)//"/garbage.afp", model, ierr)
      call check(ierr == ATOMFP_ERROR_FORMAT, "a malformed model file is ATOMFP_ERROR_FORMAT")

      call methane(positions, species)
      call atomfp_descriptor_create(acsf_ch, descriptor)
      call atomfp_neighbours_build(positions, species, 4d0, list)
      call atomfp_neighbours_system(list, system)
      call atomfp_neighbours_free(list)
      allocate (features(atomfp_descriptor_feature_count(descriptor) + 1, 5))
      call atomfp_descriptor_compute(descriptor, system, features, ierr=ierr)
      call check(ierr == ATOMFP_ERROR_INVALID_ARGUMENT, "a features array of the wrong shape")
      call check(index(atomfp_last_error(), "features has shape") > 0, "the message gives the shapes")
      deallocate (features)
      allocate (features(atomfp_descriptor_feature_count(descriptor), 5))
      call atomfp_descriptor_compute(descriptor, empty, features, ierr=ierr)
      call check(ierr == ATOMFP_ERROR_INVALID_ARGUMENT, "an empty atomfp_system")
      system%positions(2, 3) = ieee_value(1d0, ieee_quiet_nan)
      call atomfp_descriptor_compute(descriptor, system, features, ierr=ierr)
      call check(ierr == ATOMFP_ERROR_INVALID_ARGUMENT, "a NaN position")
      call check(index(atomfp_last_error(), "finite") > 0 .or. index(atomfp_last_error(), "NaN") > 0 .or. &
                 index(atomfp_last_error(), "nan") > 0, "the message says the position is not finite")
      nan_positions = positions
      nan_positions(1, 1) = ieee_value(1d0, ieee_quiet_nan)
      call atomfp_neighbours_build(nan_positions, species, 4d0, list, ierr=ierr)
      call check(ierr == ATOMFP_ERROR_INVALID_ARGUMENT, "neighbours_build with a NaN position")
      call atomfp_neighbours_build(positions, species, -1d0, list, ierr=ierr)
      call check(ierr == ATOMFP_ERROR_INVALID_ARGUMENT, "neighbours_build with a negative cutoff")
      label = atomfp_descriptor_feature_label(descriptor, atomfp_descriptor_feature_count(descriptor) + 1, ierr)
      call check(ierr == ATOMFP_ERROR_INVALID_ARGUMENT .and. label == "", "a feature label past the last feature")
      label = atomfp_descriptor_feature_label(descriptor, 0_c_int64_t, ierr)
      call check(ierr == ATOMFP_ERROR_INVALID_ARGUMENT, "feature label 0 (labels are 1-based)")
      call check(atomfp_sensitivity_size(descriptor, system, 6_c_int64_t, ierr) == 0 .and. &
                 ierr == ATOMFP_ERROR_INVALID_ARGUMENT, "sensitivity of centre n_centers + 1")

      call atomfp_model_load(trim(model_path), model)
      system%positions = positions
      call atomfp_model_predict(model, system, ierr=ierr)
      call check(ierr == ATOMFP_ERROR_SPECIES, "a Si model on methane is ATOMFP_ERROR_SPECIES")
      call atomfp_model_free(model)

      call atomfp_trainer_create('{"kernel": {"type": "linear"}, "unknown": 1}', trainer, ierr)
      call check(ierr == ATOMFP_ERROR_JSON, "a bad trainer configuration")
      call atomfp_trainer_create('{"descriptor": ' // acsf_ch // '}', trainer, ierr)
      call check(ierr == ATOMFP_OK, "a minimal trainer configuration")
      call atomfp_trainer_add_structure(trainer, positions, species, energy=ieee_value(1d0, ieee_quiet_nan), ierr=ierr)
      call check(ierr == ATOMFP_ERROR_INVALID_ARGUMENT, "a NaN training energy")
      call atomfp_trainer_train(trainer, model, ierr)
      call check(ierr /= ATOMFP_OK .and. .not. atomfp_associated(model), "training without structures")
      call atomfp_trainer_free(trainer)
      call atomfp_descriptor_free(descriptor)
   end subroutine

   ! A rotation of the features loses and distorts nothing; one of three features cannot give all three.
   subroutine test_feature_space()
      real(c_double) :: a(3, 40), b(3, 40), gfre(2), gfrd(2), pointwise(20, 2)
      integer(c_int64_t), allocatable :: selected(:)
      integer :: i, ierr
      do i = 1, 40
         a(:, i) = [sin(1.3d0 * i), sin(1.3d0 * i + 2.1d0) + 0.1d0 * cos(0.7d0 * i), sin(1.3d0 * i + 4.2d0)]
         b(:, i) = [cos(0.6d0) * a(1, i) - sin(0.6d0) * a(2, i), sin(0.6d0) * a(1, i) + cos(0.6d0) * a(2, i), a(3, i)]
      end do
      call atomfp_feature_space_compare(a, b, gfre, gfrd, pointwise=pointwise, ierr=ierr)
      call check(ierr == ATOMFP_OK .and. all(gfre < 1d-10) .and. all(gfrd < 1d-10), "GFRE and GFRD of a rotation are 0")
      call atomfp_feature_space_compare(a, a(1:1, :), gfre, pointwise=pointwise)
      call check(gfre(1) < 1d-10 .and. gfre(2) > 0.3d0, "three features give one back, one does not give three")
      call check(abs(sqrt(sum(pointwise(:, 2)**2) / 20) - gfre(2)) < 1d-12, "pointwise errors (column 2) average to GFRE")
      call atomfp_feature_select(a, "cur", 2, selected)
      call check(size(selected) == 2 .and. all(selected >= 1 .and. selected <= 3), "CUR selects 1-based features")
      call atomfp_feature_space_compare(a, b(:, 1:30), gfre, ierr=ierr)
      call check(ierr == ATOMFP_ERROR_INVALID_ARGUMENT, "different sample counts are rejected")
      call atomfp_feature_select(a, "best", 2, selected, ierr)
      call check(ierr == ATOMFP_ERROR_INVALID_ARGUMENT .and. index(atomfp_last_error(), "method") > 0, &
                 "an unknown selection method")
   end subroutine

   ! The frames of an extended XYZ file written here, with values known to the test.
   subroutine test_frames()
      type(atomfp_frames) :: frames
      real(c_double), allocatable :: positions(:, :), cell(:, :)
      integer(c_int32_t), allocatable :: species(:)
      logical :: pbc(3)
      integer :: unit, ierr
      open (newunit=unit, file=trim(scratch)//"/two_frames.extxyz", status="replace", action="write")
      write (unit, '(a)') "2", 'Lattice="5 0 0 0 6 0 0 0 7" Properties=species:S:1:pos:R:3 pbc="T T F"', &
         "Si 0.5 1.5 2.5", "C 1.25 0 -1", "1", "Properties=species:S:1:pos:R:3", "H 0 0 0.75"
      close (unit)
      call atomfp_frames_read(trim(scratch)//"/two_frames.extxyz", frames, ierr)
      call check(ierr == ATOMFP_OK .and. atomfp_frames_count(frames) == 2, "frames_read: two frames")
      call atomfp_frames_get(frames, 1_c_int64_t, positions, species, cell, pbc)
      call check(all(shape(positions) == [3, 2]) .and. all(positions(:, 2) == [1.25d0, 0d0, -1d0]), &
                 "frame 1 positions as columns")
      call check(all(species == [14, 6]) .and. all(pbc .eqv. [.true., .true., .false.]), "frame 1 species and pbc")
      call check(allocated(cell), "frame 1 has a cell")
      if (allocated(cell)) call check(cell(2, 2) == 6d0 .and. cell(1, 2) == 0d0, "cell vectors are columns")
      call atomfp_frames_get(frames, 2_c_int64_t, positions, species, cell, pbc)
      call check(size(species) == 1 .and. species(1) == 1 .and. .not. allocated(cell), "frame 2: one H, no cell")
      call atomfp_frames_get(frames, 3_c_int64_t, positions, species, ierr=ierr)
      call check(ierr == ATOMFP_ERROR_INVALID_ARGUMENT, "frame 3 of 2")
      call atomfp_frames_get(frames, 0_c_int64_t, positions, species, ierr=ierr)
      call check(ierr == ATOMFP_ERROR_INVALID_ARGUMENT, "frame 0 (frames are 1-based)")
      call atomfp_frames_free(frames)
      call check(.not. atomfp_associated(frames), "frames_free nullifies the handle")
      call atomfp_frames_read(trim(scratch)//"/no_such.extxyz", frames, ierr)
      call check(ierr == ATOMFP_ERROR_IO, "a missing file")
   end subroutine

end program
