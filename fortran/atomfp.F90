! atomfp: atomic-environment fingerprints, their gradients and kernel models, for Fortran codes.
!
! A thin Fortran 2008 layer over the C API (include_c/atomfp.h); read that header for the meaning
! of every call. What this module adds:
!
!  - Arrays are column-major with the same memory as the C layout, so nothing large is copied:
!      positions (3, n_atoms), forces (3, n_atoms), features (n_features, n_centers),
!      gradients (n_features, 3, n_blocks), cell (3, 3) with the lattice vectors as columns,
!      virial (3, 3), sensitivity (3N, 3N), eigenvectors (3N, 3N) with eigenvector k in column k.
!  - Atom indices are 1-based: atomfp_system%centers and %neighbours, and the `center` argument of
!    the sensitivity and manifold calls. They are converted to 0-based at the boundary. CSR offsets
!    are counts, not indices, and are the same as in C: the neighbours of centre c are
!    neighbours(offsets(c) + 1 : offsets(c + 1)), with offsets(1) = 0.
!  - Strings are ordinary Fortran strings (character(len=:), allocatable on output).
!  - Every procedure takes `integer, optional, intent(out) :: ierr` last. With it, ierr receives the
!    status (ATOMFP_OK on success) and atomfp_last_error() the message; without it, a failure
!    prints the message and stops the program with `error stop`.
!  - Handles are released with explicit atomfp_*_free calls (freeing a null handle is a no-op).
module atomfp
   use, intrinsic :: iso_c_binding, only: c_ptr, c_null_ptr, c_null_char, c_char, c_int, c_int32_t, &
                                          c_int64_t, c_double, c_associated, c_loc, c_f_pointer, c_size_t
   use, intrinsic :: iso_fortran_env, only: error_unit
   implicit none
   private

   ! ---- status codes and flags (include_c/atomfp.h) -------------------------------------------------
   integer, parameter, public :: ATOMFP_OK = 0
   integer, parameter, public :: ATOMFP_ERROR_INVALID_ARGUMENT = 1
   integer, parameter, public :: ATOMFP_ERROR_JSON = 2
   integer, parameter, public :: ATOMFP_ERROR_BUFFER_TOO_SMALL = 3
   integer, parameter, public :: ATOMFP_ERROR_NEIGHBOURS = 4
   integer, parameter, public :: ATOMFP_ERROR_IO = 5
   integer, parameter, public :: ATOMFP_ERROR_FORMAT = 6
   integer, parameter, public :: ATOMFP_ERROR_LINALG = 7
   integer, parameter, public :: ATOMFP_ERROR_OUT_OF_MEMORY = 8
   integer, parameter, public :: ATOMFP_ERROR_SPECIES = 9
   integer, parameter, public :: ATOMFP_ERROR_NOT_AVAILABLE = 10
   integer, parameter, public :: ATOMFP_ERROR_INTERNAL = 255
   integer, parameter, public :: ATOMFP_SENSITIVITY_REMOVE_RIGID = 1
   integer, parameter, public :: ATOMFP_SENSITIVITY_SCALE_MAX = 2

   ! ---- handles ---------------------------------------------------------------------------------------
   type, public :: atomfp_descriptor
      private
      type(c_ptr) :: ptr = c_null_ptr
   end type
   type, public :: atomfp_model
      private
      type(c_ptr) :: ptr = c_null_ptr
   end type
   type, public :: atomfp_trainer
      private
      type(c_ptr) :: ptr = c_null_ptr
   end type
   type, public :: atomfp_neighbours
      private
      type(c_ptr) :: ptr = c_null_ptr
   end type
   type, public :: atomfp_frames
      private
      type(c_ptr) :: ptr = c_null_ptr
   end type

   ! Atoms and a caller-owned full neighbour list (see atomfp_system_t in the C header). The host
   ! fills the components; `cell` and `cell_shifts` may stay unallocated (an open cluster, or
   ! neighbours given as ghost atoms without image shifts).
   type, public :: atomfp_system
      real(c_double), allocatable :: positions(:, :)        ! (3, n_atoms), Å
      integer(c_int32_t), allocatable :: species(:)         ! (n_atoms), atomic numbers
      real(c_double), allocatable :: cell(:, :)             ! (3, 3), lattice vectors as columns, Å
      integer(c_int64_t), allocatable :: centers(:)         ! (n_centers), 1-based atom indices
      integer(c_int64_t), allocatable :: offsets(:)         ! (n_centers + 1), offsets(1) = 0
      integer(c_int64_t), allocatable :: neighbours(:)      ! (n_pairs), 1-based atom indices
      integer(c_int32_t), allocatable :: cell_shifts(:, :)  ! (3, n_pairs): r_ij = x_j - x_i + cell . shift
   end type

   ! The C struct, filled with pointers into an atomfp_system for the duration of one call.
   type, bind(c) :: c_system
      integer(c_int64_t) :: n_atoms = 0
      type(c_ptr) :: positions = c_null_ptr
      type(c_ptr) :: species = c_null_ptr
      type(c_ptr) :: cell = c_null_ptr
      integer(c_int64_t) :: n_centers = 0
      type(c_ptr) :: centers = c_null_ptr
      type(c_ptr) :: offsets = c_null_ptr
      type(c_ptr) :: neighbours = c_null_ptr
      type(c_ptr) :: cell_shifts = c_null_ptr
   end type

   ! A C view together with the 0-based index arrays it points into.
   type :: system_view
      type(c_system) :: c
      integer(c_int64_t), allocatable :: centers(:)
      integer(c_int64_t), allocatable :: neighbours(:)
   end type

   ! The C functions that return strings, for query_string.
   integer, parameter :: DESCRIPTOR_PARAMETERS = 1, DESCRIPTOR_FEATURE_LABEL = 2, TRAINER_SUMMARY = 3, &
                         DESCRIPTOR_TYPES = 4, MODEL_HEADER = 5

   ! The message of the last failure detected by this module itself (array shapes, missing
   ! components); C-side failures keep theirs in the library.
   character(len=:), allocatable :: wrapper_message
   logical :: wrapper_failed_last = .false.
   !$omp threadprivate(wrapper_message, wrapper_failed_last)

   public :: atomfp_version, atomfp_version_string, atomfp_simd_kernels, atomfp_last_error, atomfp_status_name
   public :: atomfp_neighbours_build, atomfp_neighbours_system, atomfp_neighbours_free
   public :: atomfp_frames_read, atomfp_frames_free, atomfp_frames_count, atomfp_frames_get
   public :: atomfp_system_n_atoms, atomfp_system_n_centers, atomfp_system_n_pairs, atomfp_system_n_blocks
   public :: atomfp_descriptor_create, atomfp_descriptor_free, atomfp_descriptor_parameters, atomfp_descriptor_types
   public :: atomfp_descriptor_feature_count, atomfp_descriptor_cutoff, atomfp_descriptor_feature_label
   public :: atomfp_descriptor_compute, atomfp_descriptor_contract
   public :: atomfp_sensitivity_size, atomfp_sensitivity_matrix, atomfp_sensitivity_spectrum, atomfp_blind_spot_indices
   public :: atomfp_manifold_trace
   public :: atomfp_feature_space_compare, atomfp_feature_select
   public :: atomfp_model_load, atomfp_model_save, atomfp_model_free, atomfp_model_cutoff
   public :: atomfp_model_species, atomfp_model_predict, atomfp_model_header, atomfp_model_predict_variance
   public :: atomfp_model_variance_gradient
   public :: atomfp_model_extrapolation
   public :: atomfp_trainer_create, atomfp_trainer_free, atomfp_trainer_add_structure, atomfp_trainer_size
   public :: atomfp_trainer_set_structure_keys
   public :: atomfp_trainer_train, atomfp_trainer_summary
   public :: atomfp_associated

   interface atomfp_associated
      module procedure descriptor_associated, model_associated, trainer_associated, neighbours_associated, &
         frames_associated
   end interface

   ! ---- the C functions -------------------------------------------------------------------------------
   interface
      function c_last_error() bind(c, name="atomfp_last_error")
         import :: c_ptr
         type(c_ptr) :: c_last_error
      end function
      function c_status_name(status) bind(c, name="atomfp_status_name")
         import :: c_ptr, c_int32_t
         integer(c_int32_t), value :: status
         type(c_ptr) :: c_status_name
      end function
      function c_version(major, minor, patch) bind(c, name="atomfp_version")
         import :: c_int, c_int32_t
         integer(c_int), intent(out) :: major, minor, patch
         integer(c_int32_t) :: c_version
      end function
      function c_version_string() bind(c, name="atomfp_version_string")
         import :: c_ptr
         type(c_ptr) :: c_version_string
      end function
      function c_simd_kernels() bind(c, name="atomfp_simd_kernels")
         import :: c_ptr
         type(c_ptr) :: c_simd_kernels
      end function
      function c_strlen(s) bind(c, name="strlen")
         import :: c_ptr, c_size_t
         type(c_ptr), value :: s
         integer(c_size_t) :: c_strlen
      end function

      function c_neighbours_build(n_atoms, positions, species, cell, pbc, cutoff, out) &
         bind(c, name="atomfp_neighbours_build")
         import :: c_int64_t, c_ptr, c_double, c_int32_t
         integer(c_int64_t), value :: n_atoms
         type(c_ptr), value :: positions, species, cell, pbc
         real(c_double), value :: cutoff
         type(c_ptr), intent(out) :: out
         integer(c_int32_t) :: c_neighbours_build
      end function
      function c_neighbours_system(list, view) bind(c, name="atomfp_neighbours_system")
         import :: c_ptr, c_system, c_int32_t
         type(c_ptr), value :: list
         type(c_system), intent(out) :: view
         integer(c_int32_t) :: c_neighbours_system
      end function
      subroutine c_neighbours_free(list) bind(c, name="atomfp_neighbours_free")
         import :: c_ptr
         type(c_ptr), value :: list
      end subroutine

      function c_frames_read(path, out) bind(c, name="atomfp_frames_read")
         import :: c_char, c_ptr, c_int32_t
         character(kind=c_char), intent(in) :: path(*)
         type(c_ptr), intent(out) :: out
         integer(c_int32_t) :: c_frames_read
      end function
      subroutine c_frames_free(frames) bind(c, name="atomfp_frames_free")
         import :: c_ptr
         type(c_ptr), value :: frames
      end subroutine
      function c_frames_count(frames, n) bind(c, name="atomfp_frames_count")
         import :: c_ptr, c_int64_t, c_int32_t
         type(c_ptr), value :: frames
         integer(c_int64_t), intent(out) :: n
         integer(c_int32_t) :: c_frames_count
      end function
      function c_frames_get(frames, index, n_atoms, positions, species, cell, pbc) bind(c, name="atomfp_frames_get")
         import :: c_ptr, c_int64_t, c_int32_t
         type(c_ptr), value :: frames
         integer(c_int64_t), value :: index
         integer(c_int64_t), intent(out) :: n_atoms
         type(c_ptr), intent(out) :: positions, species, cell, pbc
         integer(c_int32_t) :: c_frames_get
      end function

      function c_descriptor_create(json, out) bind(c, name="atomfp_descriptor_create")
         import :: c_char, c_ptr, c_int32_t
         character(kind=c_char), intent(in) :: json(*)
         type(c_ptr), intent(out) :: out
         integer(c_int32_t) :: c_descriptor_create
      end function
      subroutine c_descriptor_free(descriptor) bind(c, name="atomfp_descriptor_free")
         import :: c_ptr
         type(c_ptr), value :: descriptor
      end subroutine
      function c_descriptor_types(buffer, buffer_len, required_len) bind(c, name="atomfp_descriptor_types")
         import :: c_ptr, c_int64_t, c_int32_t
         type(c_ptr), value :: buffer
         integer(c_int64_t), value :: buffer_len
         integer(c_int64_t), intent(out) :: required_len
         integer(c_int32_t) :: c_descriptor_types
      end function
      function c_descriptor_parameters(descriptor, buffer, buffer_len, required_len) &
         bind(c, name="atomfp_descriptor_parameters")
         import :: c_ptr, c_int64_t, c_int32_t
         type(c_ptr), value :: descriptor, buffer
         integer(c_int64_t), value :: buffer_len
         integer(c_int64_t), intent(out) :: required_len
         integer(c_int32_t) :: c_descriptor_parameters
      end function
      function c_descriptor_feature_count(descriptor, n) bind(c, name="atomfp_descriptor_feature_count")
         import :: c_ptr, c_int64_t, c_int32_t
         type(c_ptr), value :: descriptor
         integer(c_int64_t), intent(out) :: n
         integer(c_int32_t) :: c_descriptor_feature_count
      end function
      function c_descriptor_cutoff(descriptor, cutoff) bind(c, name="atomfp_descriptor_cutoff")
         import :: c_ptr, c_double, c_int32_t
         type(c_ptr), value :: descriptor
         real(c_double), intent(out) :: cutoff
         integer(c_int32_t) :: c_descriptor_cutoff
      end function
      function c_descriptor_feature_label(descriptor, index, buffer, buffer_len, required_len) &
         bind(c, name="atomfp_descriptor_feature_label")
         import :: c_ptr, c_int64_t, c_int32_t
         type(c_ptr), value :: descriptor
         integer(c_int64_t), value :: index
         type(c_ptr), value :: buffer
         integer(c_int64_t), value :: buffer_len
         integer(c_int64_t), intent(out) :: required_len
         integer(c_int32_t) :: c_descriptor_feature_label
      end function
      function c_descriptor_compute(descriptor, system, features, gradients) &
         bind(c, name="atomfp_descriptor_compute")
         import :: c_ptr, c_system, c_int32_t
         type(c_ptr), value :: descriptor
         type(c_system), intent(in) :: system
         type(c_ptr), value :: features, gradients
         integer(c_int32_t) :: c_descriptor_compute
      end function
      function c_descriptor_contract(descriptor, system, energy_derivatives, features, forces, virial) &
         bind(c, name="atomfp_descriptor_contract")
         import :: c_ptr, c_system, c_int32_t
         type(c_ptr), value :: descriptor
         type(c_system), intent(in) :: system
         type(c_ptr), value :: energy_derivatives, features, forces, virial
         integer(c_int32_t) :: c_descriptor_contract
      end function

      function c_sensitivity_size(descriptor, system, center, n) bind(c, name="atomfp_sensitivity_size")
         import :: c_ptr, c_system, c_int64_t, c_int32_t
         type(c_ptr), value :: descriptor
         type(c_system), intent(in) :: system
         integer(c_int64_t), value :: center
         integer(c_int64_t), intent(out) :: n
         integer(c_int32_t) :: c_sensitivity_size
      end function
      function c_sensitivity_matrix(descriptor, system, center, flags, sensitivity) &
         bind(c, name="atomfp_sensitivity_matrix")
         import :: c_ptr, c_system, c_int64_t, c_int32_t
         type(c_ptr), value :: descriptor
         type(c_system), intent(in) :: system
         integer(c_int64_t), value :: center
         integer(c_int32_t), value :: flags
         type(c_ptr), value :: sensitivity
         integer(c_int32_t) :: c_sensitivity_matrix
      end function
      function c_blind_spot_indices(descriptor, system, threshold, index, below) bind(c, name="atomfp_blind_spot_indices")
         import :: c_ptr, c_system, c_double, c_int32_t
         type(c_ptr), value :: descriptor
         type(c_system), intent(in) :: system
         real(c_double), value :: threshold
         type(c_ptr), value :: index, below
         integer(c_int32_t) :: c_blind_spot_indices
      end function
      function c_sensitivity_spectrum(descriptor, system, center, flags, eigenvalues, eigenvectors) &
         bind(c, name="atomfp_sensitivity_spectrum")
         import :: c_ptr, c_system, c_int64_t, c_int32_t
         type(c_ptr), value :: descriptor
         type(c_system), intent(in) :: system
         integer(c_int64_t), value :: center
         integer(c_int32_t), value :: flags
         type(c_ptr), value :: eigenvalues, eigenvectors
         integer(c_int32_t) :: c_sensitivity_spectrum
      end function
      function c_manifold_trace(descriptor, n_probes, probes, system, center, options, max_frames, n_frames, &
                                species, positions, eigenvalues, displacement, distances, random_distances) &
         bind(c, name="atomfp_manifold_trace")
         import :: c_ptr, c_system, c_int64_t, c_int32_t
         type(c_ptr), value :: descriptor
         integer(c_int64_t), value :: n_probes
         type(c_ptr), value :: probes
         type(c_system), intent(in) :: system
         integer(c_int64_t), value :: center
         type(c_ptr), value :: options
         integer(c_int64_t), value :: max_frames
         integer(c_int64_t), intent(out) :: n_frames
         type(c_ptr), value :: species, positions, eigenvalues, displacement, distances, random_distances
         integer(c_int32_t) :: c_manifold_trace
      end function

      function c_feature_space_compare(n_samples, n_features_a, a, n_features_b, b, options, gfre, gfrd, lfre, &
                                       pointwise, n_test) bind(c, name="atomfp_feature_space_compare")
         import :: c_ptr, c_int64_t, c_int32_t
         integer(c_int64_t), value :: n_samples, n_features_a
         type(c_ptr), value :: a
         integer(c_int64_t), value :: n_features_b
         type(c_ptr), value :: b, options, gfre, gfrd, lfre, pointwise
         integer(c_int64_t), intent(out) :: n_test
         integer(c_int32_t) :: c_feature_space_compare
      end function
      function c_feature_select(n_samples, n_features, x, method, n_select, selected, n_selected) &
         bind(c, name="atomfp_feature_select")
         import :: c_ptr, c_int64_t, c_int32_t, c_char
         integer(c_int64_t), value :: n_samples, n_features
         type(c_ptr), value :: x
         character(kind=c_char), intent(in) :: method(*)
         integer(c_int64_t), value :: n_select
         type(c_ptr), value :: selected
         integer(c_int64_t), intent(out) :: n_selected
         integer(c_int32_t) :: c_feature_select
      end function

      function c_model_load(path, out) bind(c, name="atomfp_model_load")
         import :: c_char, c_ptr, c_int32_t
         character(kind=c_char), intent(in) :: path(*)
         type(c_ptr), intent(out) :: out
         integer(c_int32_t) :: c_model_load
      end function
      function c_model_save(model, path) bind(c, name="atomfp_model_save")
         import :: c_char, c_ptr, c_int32_t
         type(c_ptr), value :: model
         character(kind=c_char), intent(in) :: path(*)
         integer(c_int32_t) :: c_model_save
      end function
      subroutine c_model_free(model) bind(c, name="atomfp_model_free")
         import :: c_ptr
         type(c_ptr), value :: model
      end subroutine
      function c_model_cutoff(model, cutoff) bind(c, name="atomfp_model_cutoff")
         import :: c_ptr, c_double, c_int32_t
         type(c_ptr), value :: model
         real(c_double), intent(out) :: cutoff
         integer(c_int32_t) :: c_model_cutoff
      end function
      function c_model_species(model, species, capacity, n_species) bind(c, name="atomfp_model_species")
         import :: c_ptr, c_int64_t, c_int32_t
         type(c_ptr), value :: model, species
         integer(c_int64_t), value :: capacity
         integer(c_int64_t), intent(out) :: n_species
         integer(c_int32_t) :: c_model_species
      end function
      function c_model_predict(model, system, energy, center_energies, forces, virial) &
         bind(c, name="atomfp_model_predict")
         import :: c_ptr, c_system, c_int32_t
         type(c_ptr), value :: model
         type(c_system), intent(in) :: system
         type(c_ptr), value :: energy, center_energies, forces, virial
         integer(c_int32_t) :: c_model_predict
      end function

      function c_model_predict_variance(model, system, center_variances, energy_variance) &
         bind(c, name="atomfp_model_predict_variance")
         import :: c_ptr, c_system, c_int32_t
         type(c_ptr), value :: model
         type(c_system), intent(in) :: system
         type(c_ptr), value :: center_variances, energy_variance
         integer(c_int32_t) :: c_model_predict_variance
      end function

      function c_model_variance_gradient(model, system, coefficients, gradient, virial) &
         bind(c, name="atomfp_model_variance_gradient")
         import :: c_ptr, c_system, c_int32_t
         type(c_ptr), value :: model
         type(c_system), intent(in) :: system
         type(c_ptr), value :: coefficients, gradient, virial
         integer(c_int32_t) :: c_model_variance_gradient
      end function

      function c_model_extrapolation(model, system, features_outside, largest_excess) &
         bind(c, name="atomfp_model_extrapolation")
         import :: c_ptr, c_system, c_int32_t
         type(c_ptr), value :: model
         type(c_system), intent(in) :: system
         type(c_ptr), value :: features_outside, largest_excess
         integer(c_int32_t) :: c_model_extrapolation
      end function

      function c_trainer_create(config, out) bind(c, name="atomfp_trainer_create")
         import :: c_char, c_ptr, c_int32_t
         character(kind=c_char), intent(in) :: config(*)
         type(c_ptr), intent(out) :: out
         integer(c_int32_t) :: c_trainer_create
      end function
      subroutine c_trainer_free(trainer) bind(c, name="atomfp_trainer_free")
         import :: c_ptr
         type(c_ptr), value :: trainer
      end subroutine
      function c_trainer_add_structure(trainer, n_atoms, positions, species, cell, pbc, energy, forces, virial) &
         bind(c, name="atomfp_trainer_add_structure")
         import :: c_ptr, c_int64_t, c_int32_t
         type(c_ptr), value :: trainer
         integer(c_int64_t), value :: n_atoms
         type(c_ptr), value :: positions, species, cell, pbc, energy, forces, virial
         integer(c_int32_t) :: c_trainer_add_structure
      end function
      function c_trainer_set_structure_keys(trainer, index, keys) bind(c, name="atomfp_trainer_set_structure_keys")
         import :: c_ptr, c_int64_t, c_int32_t, c_char
         type(c_ptr), value :: trainer
         integer(c_int64_t), value :: index
         character(kind=c_char), intent(in) :: keys(*)
         integer(c_int32_t) :: c_trainer_set_structure_keys
      end function
      function c_trainer_size(trainer, n) bind(c, name="atomfp_trainer_size")
         import :: c_ptr, c_int64_t, c_int32_t
         type(c_ptr), value :: trainer
         integer(c_int64_t), intent(out) :: n
         integer(c_int32_t) :: c_trainer_size
      end function
      function c_trainer_train(trainer, out) bind(c, name="atomfp_trainer_train")
         import :: c_ptr, c_int32_t
         type(c_ptr), value :: trainer
         type(c_ptr), intent(out) :: out
         integer(c_int32_t) :: c_trainer_train
      end function
      function c_model_header(model, buffer, buffer_len, required_len) bind(c, name="atomfp_model_header")
         import :: c_ptr, c_int64_t, c_int32_t
         type(c_ptr), value :: model, buffer
         integer(c_int64_t), value :: buffer_len
         integer(c_int64_t), intent(out) :: required_len
         integer(c_int32_t) :: c_model_header
      end function
      function c_trainer_summary(trainer, buffer, buffer_len, required_len) bind(c, name="atomfp_trainer_summary")
         import :: c_ptr, c_int64_t, c_int32_t
         type(c_ptr), value :: trainer, buffer
         integer(c_int64_t), value :: buffer_len
         integer(c_int64_t), intent(out) :: required_len
         integer(c_int32_t) :: c_trainer_summary
      end function
   end interface

contains

   ! ==== errors and versions ============================================================================

   !> The message of the last failed atomfp call on this thread ("" if none).
   function atomfp_last_error() result(message)
      character(len=:), allocatable :: message
      if (wrapper_failed_last) then
         message = wrapper_message
      else
         message = from_c_string(c_last_error())
      end if
   end function

   !> A short constant name for a status code, e.g. "ATOMFP_ERROR_JSON".
   function atomfp_status_name(status) result(name)
      integer, intent(in) :: status
      character(len=:), allocatable :: name
      name = from_c_string(c_status_name(int(status, c_int32_t)))
   end function

   !> The version of the linked library.
   subroutine atomfp_version(major, minor, patch, ierr)
      integer, intent(out) :: major, minor, patch
      integer, optional, intent(out) :: ierr
      integer(c_int) :: c_major, c_minor, c_patch
      call finish(c_version(c_major, c_minor, c_patch), ierr)
      major = c_major
      minor = c_minor
      patch = c_patch
   end subroutine

   function atomfp_version_string() result(version)
      character(len=:), allocatable :: version
      version = from_c_string(c_version_string())
   end function

   !> Which copy of the vectorised kernels runs on this CPU: "avx2" or "baseline".
   function atomfp_simd_kernels() result(kernels)
      character(len=:), allocatable :: kernels
      kernels = from_c_string(c_simd_kernels())
   end function

   ! ==== neighbour lists and systems ====================================================================

   !> Builds a full neighbour list with cell lists in O(n_atoms). positions (3, n_atoms);
   !> cell (3, 3) with lattice vectors as columns, absent for an open cluster; pbc (3), absent: all
   !> periodic when a cell is given.
   subroutine atomfp_neighbours_build(positions, species, cutoff, list, cell, pbc, ierr)
      real(c_double), intent(in), target, contiguous :: positions(:, :)
      integer(c_int32_t), intent(in), target, contiguous :: species(:)
      real(c_double), intent(in) :: cutoff
      type(atomfp_neighbours), intent(out) :: list
      real(c_double), intent(in), target, optional :: cell(3, 3)
      logical, intent(in), optional :: pbc(3)
      integer, optional, intent(out) :: ierr
      integer(c_int32_t), target :: c_pbc(3)
      type(c_ptr) :: cell_ptr, pbc_ptr
      if (.not. shape_is(positions, [3_c_int64_t, int(size(species), c_int64_t)], "positions", ierr)) return
      cell_ptr = c_null_ptr
      if (present(cell)) cell_ptr = c_loc(cell)
      pbc_ptr = c_null_ptr
      if (present(pbc)) then
         c_pbc = merge(1_c_int32_t, 0_c_int32_t, pbc)
         pbc_ptr = c_loc(c_pbc)
      end if
      call finish(c_neighbours_build(int(size(species), c_int64_t), c_loc(positions), c_loc(species), cell_ptr, &
                                     pbc_ptr, cutoff, list%ptr), ierr)
   end subroutine

   !> Copies a library-built neighbour list into an atomfp_system (1-based indices).
   subroutine atomfp_neighbours_system(list, system, ierr)
      type(atomfp_neighbours), intent(in) :: list
      type(atomfp_system), intent(out) :: system
      integer, optional, intent(out) :: ierr
      type(c_system) :: view
      real(c_double), pointer :: positions(:, :), cell(:, :)
      integer(c_int32_t), pointer :: species(:), cell_shifts(:, :)
      integer(c_int64_t), pointer :: centers(:), offsets(:), neighbours(:)
      integer(c_int64_t) :: n_pairs
      if (.not. finish_ok(c_neighbours_system(list%ptr, view), ierr)) return
      call c_f_pointer(view%positions, positions, [3_c_int64_t, view%n_atoms])
      call c_f_pointer(view%species, species, [view%n_atoms])
      call c_f_pointer(view%centers, centers, [view%n_centers])
      call c_f_pointer(view%offsets, offsets, [view%n_centers + 1])
      n_pairs = offsets(view%n_centers + 1)
      call c_f_pointer(view%neighbours, neighbours, [n_pairs])
      system%positions = positions
      system%species = species
      system%centers = centers + 1
      system%offsets = offsets
      system%neighbours = neighbours + 1
      if (c_associated(view%cell)) then
         call c_f_pointer(view%cell, cell, [3, 3])
         system%cell = cell
      end if
      if (c_associated(view%cell_shifts)) then
         call c_f_pointer(view%cell_shifts, cell_shifts, [3_c_int64_t, n_pairs])
         system%cell_shifts = cell_shifts
      end if
   end subroutine

   subroutine atomfp_neighbours_free(list)
      type(atomfp_neighbours), intent(inout) :: list
      call c_neighbours_free(list%ptr)
      list%ptr = c_null_ptr
   end subroutine

   integer(c_int64_t) function atomfp_system_n_atoms(system)
      type(atomfp_system), intent(in) :: system
      atomfp_system_n_atoms = 0
      if (allocated(system%species)) atomfp_system_n_atoms = size(system%species)
   end function

   integer(c_int64_t) function atomfp_system_n_centers(system)
      type(atomfp_system), intent(in) :: system
      atomfp_system_n_centers = 0
      if (allocated(system%centers)) atomfp_system_n_centers = size(system%centers)
   end function

   integer(c_int64_t) function atomfp_system_n_pairs(system)
      type(atomfp_system), intent(in) :: system
      atomfp_system_n_pairs = 0
      if (allocated(system%neighbours)) atomfp_system_n_pairs = size(system%neighbours)
   end function

   !> The number of gradient blocks of atomfp_descriptor_compute: n_centers + n_pairs.
   integer(c_int64_t) function atomfp_system_n_blocks(system)
      type(atomfp_system), intent(in) :: system
      atomfp_system_n_blocks = atomfp_system_n_centers(system) + atomfp_system_n_pairs(system)
   end function

   ! ==== structures from files ============================================================================

   !> Reads the frames of an extended XYZ file.
   subroutine atomfp_frames_read(path, frames, ierr)
      character(len=*), intent(in) :: path
      type(atomfp_frames), intent(out) :: frames
      integer, optional, intent(out) :: ierr
      call finish(c_frames_read(to_c_string(path), frames%ptr), ierr)
   end subroutine

   subroutine atomfp_frames_free(frames)
      type(atomfp_frames), intent(inout) :: frames
      call c_frames_free(frames%ptr)
      frames%ptr = c_null_ptr
   end subroutine

   integer(c_int64_t) function atomfp_frames_count(frames, ierr) result(n_frames)
      type(atomfp_frames), intent(in) :: frames
      integer, optional, intent(out) :: ierr
      n_frames = 0
      call finish(c_frames_count(frames%ptr, n_frames), ierr)
   end function

   !> Frame `index` (1-based), copied: positions (3, n_atoms) Å, species (n_atoms), cell (3, 3)
   !> with lattice vectors as columns (left unallocated when the frame has none), pbc (3).
   subroutine atomfp_frames_get(frames, index, positions, species, cell, pbc, ierr)
      type(atomfp_frames), intent(in) :: frames
      integer(c_int64_t), intent(in) :: index
      real(c_double), allocatable, intent(out) :: positions(:, :)
      integer(c_int32_t), allocatable, intent(out) :: species(:)
      real(c_double), allocatable, intent(out), optional :: cell(:, :)
      logical, intent(out), optional :: pbc(3)
      integer, optional, intent(out) :: ierr
      type(c_ptr) :: positions_ptr, species_ptr, cell_ptr, pbc_ptr
      real(c_double), pointer :: c_positions(:, :), c_cell(:, :)
      integer(c_int32_t), pointer :: c_species(:), c_pbc(:)
      integer(c_int64_t) :: n_atoms
      if (.not. finish_ok(c_frames_get(frames%ptr, index - 1, n_atoms, positions_ptr, species_ptr, cell_ptr, &
                                       pbc_ptr), ierr)) return
      call c_f_pointer(positions_ptr, c_positions, [3_c_int64_t, n_atoms])
      call c_f_pointer(species_ptr, c_species, [n_atoms])
      positions = c_positions
      species = c_species
      if (present(cell) .and. c_associated(cell_ptr)) then
         call c_f_pointer(cell_ptr, c_cell, [3, 3])
         cell = c_cell
      end if
      if (present(pbc)) then
         call c_f_pointer(pbc_ptr, c_pbc, [3])
         pbc = c_pbc /= 0
      end if
   end subroutine

   ! ==== descriptors =====================================================================================

   !> Creates a descriptor from a JSON specification, e.g. '{"type": "acsf", "species": [14], "cutoff": 6.0}'.
   subroutine atomfp_descriptor_create(spec, descriptor, ierr)
      character(len=*), intent(in) :: spec
      type(atomfp_descriptor), intent(out) :: descriptor
      integer, optional, intent(out) :: ierr
      call finish(c_descriptor_create(to_c_string(spec), descriptor%ptr), ierr)
   end subroutine

   subroutine atomfp_descriptor_free(descriptor)
      type(atomfp_descriptor), intent(inout) :: descriptor
      call c_descriptor_free(descriptor%ptr)
      descriptor%ptr = c_null_ptr
   end subroutine

   !> The canonical JSON specification with every default filled in.
   function atomfp_descriptor_parameters(descriptor, ierr) result(spec)
      type(atomfp_descriptor), intent(in) :: descriptor
      integer, optional, intent(out) :: ierr
      character(len=:), allocatable :: spec
      spec = query_string(DESCRIPTOR_PARAMETERS, descriptor%ptr, 0_c_int64_t, ierr)
   end function

   !> Every descriptor type as a JSON array of {"type", "summary", "parameters"} (every key with its default).
   function atomfp_descriptor_types(ierr) result(types)
      integer, optional, intent(out) :: ierr
      character(len=:), allocatable :: types
      types = query_string(DESCRIPTOR_TYPES, c_null_ptr, 0_c_int64_t, ierr)
   end function

   integer(c_int64_t) function atomfp_descriptor_feature_count(descriptor, ierr) result(n_features)
      type(atomfp_descriptor), intent(in) :: descriptor
      integer, optional, intent(out) :: ierr
      n_features = 0
      call finish(c_descriptor_feature_count(descriptor%ptr, n_features), ierr)
   end function

   !> The largest distance at which a neighbour changes the features, Å.
   real(c_double) function atomfp_descriptor_cutoff(descriptor, ierr) result(cutoff)
      type(atomfp_descriptor), intent(in) :: descriptor
      integer, optional, intent(out) :: ierr
      cutoff = 0
      call finish(c_descriptor_cutoff(descriptor%ptr, cutoff), ierr)
   end function

   !> The label of feature `index` (1-based).
   function atomfp_descriptor_feature_label(descriptor, index, ierr) result(label)
      type(atomfp_descriptor), intent(in) :: descriptor
      integer(c_int64_t), intent(in) :: index
      integer, optional, intent(out) :: ierr
      character(len=:), allocatable :: label
      label = query_string(DESCRIPTOR_FEATURE_LABEL, descriptor%ptr, index - 1, ierr)
   end function

   !> Features (n_features, n_centers) and gradients (n_features, 3, n_blocks) with
   !> n_blocks = atomfp_system_n_blocks(system); either may be absent.
   subroutine atomfp_descriptor_compute(descriptor, system, features, gradients, ierr)
      type(atomfp_descriptor), intent(in) :: descriptor
      type(atomfp_system), intent(in), target :: system
      real(c_double), intent(inout), target, contiguous, optional :: features(:, :)
      real(c_double), intent(inout), target, contiguous, optional :: gradients(:, :, :)
      integer, optional, intent(out) :: ierr
      type(system_view), target :: view
      type(c_ptr) :: features_ptr, gradients_ptr
      integer(c_int64_t) :: n_features
      if (.not. make_view(system, view, ierr)) return
      if (.not. finish_ok(c_descriptor_feature_count(descriptor%ptr, n_features), ierr)) return
      features_ptr = c_null_ptr
      gradients_ptr = c_null_ptr
      if (present(features)) then
         if (.not. shape_is(features, [n_features, view%c%n_centers], "features", ierr)) return
         features_ptr = c_loc(features)
      end if
      if (present(gradients)) then
         if (.not. shape_is(gradients, [n_features, 3_c_int64_t, atomfp_system_n_blocks(system)], "gradients", &
                            ierr)) return
         gradients_ptr = c_loc(gradients)
      end if
      call finish(c_descriptor_compute(descriptor%ptr, view%c, features_ptr, gradients_ptr), ierr)
   end subroutine

   !> Forces for a model of one's own: given energy_derivatives (n_features, n_centers) = dE/dF,
   !> forces (3, n_atoms) = -dE/dx and virial (3, 3) without forming the feature gradients; the
   !> features (n_features, n_centers) on the way. Every output is optional.
   subroutine atomfp_descriptor_contract(descriptor, system, energy_derivatives, features, forces, virial, ierr)
      type(atomfp_descriptor), intent(in) :: descriptor
      type(atomfp_system), intent(in), target :: system
      real(c_double), intent(in), target, contiguous :: energy_derivatives(:, :)
      real(c_double), intent(inout), target, contiguous, optional :: features(:, :)
      real(c_double), intent(inout), target, contiguous, optional :: forces(:, :)
      real(c_double), intent(inout), target, optional :: virial(3, 3)
      integer, optional, intent(out) :: ierr
      type(system_view), target :: view
      type(c_ptr) :: features_ptr, forces_ptr, virial_ptr
      integer(c_int64_t) :: n_features
      if (.not. make_view(system, view, ierr)) return
      if (.not. finish_ok(c_descriptor_feature_count(descriptor%ptr, n_features), ierr)) return
      if (.not. shape_is(energy_derivatives, [n_features, view%c%n_centers], "energy_derivatives", ierr)) return
      features_ptr = c_null_ptr
      if (present(features)) then
         if (.not. shape_is(features, [n_features, view%c%n_centers], "features", ierr)) return
         features_ptr = c_loc(features)
      end if
      forces_ptr = c_null_ptr
      if (present(forces)) then
         if (.not. shape_is(forces, [3_c_int64_t, view%c%n_atoms], "forces", ierr)) return
         forces_ptr = c_loc(forces)
      end if
      virial_ptr = c_null_ptr
      if (present(virial)) virial_ptr = c_loc(virial)
      call finish(c_descriptor_contract(descriptor%ptr, view%c, c_loc(energy_derivatives), features_ptr, forces_ptr, &
                                        virial_ptr), ierr)
   end subroutine

   ! ==== sensitivity analysis ============================================================================

   !> N, the number of environment atoms of centre `center` (1-based index into system%centers).
   integer(c_int64_t) function atomfp_sensitivity_size(descriptor, system, center, ierr) result(n_env_atoms)
      type(atomfp_descriptor), intent(in) :: descriptor
      type(atomfp_system), intent(in), target :: system
      integer(c_int64_t), intent(in) :: center
      integer, optional, intent(out) :: ierr
      type(system_view), target :: view
      n_env_atoms = 0
      if (.not. make_view(system, view, ierr)) return
      call finish(c_sensitivity_size(descriptor%ptr, view%c, center - 1, n_env_atoms), ierr)
   end function

   !> The sensitivity matrix S (3N, 3N) of centre `center` (1-based).
   subroutine atomfp_sensitivity_matrix(descriptor, system, center, flags, sensitivity, ierr)
      type(atomfp_descriptor), intent(in) :: descriptor
      type(atomfp_system), intent(in), target :: system
      integer(c_int64_t), intent(in) :: center
      integer, intent(in) :: flags
      real(c_double), intent(inout), target, contiguous :: sensitivity(:, :)
      integer, optional, intent(out) :: ierr
      type(system_view), target :: view
      integer(c_int64_t) :: n3
      if (.not. make_view(system, view, ierr)) return
      if (.not. finish_ok(c_sensitivity_size(descriptor%ptr, view%c, center - 1, n3), ierr)) return
      n3 = 3 * n3
      if (.not. shape_is(sensitivity, [n3, n3], "sensitivity", ierr)) return
      call finish(c_sensitivity_matrix(descriptor%ptr, view%c, center - 1, int(flags, c_int32_t), &
                                       c_loc(sensitivity)), ierr)
   end subroutine

   !> Eigenvalues (3N) of S in ascending order and, optionally, eigenvectors (3N, 3N), column k for
   !> eigenvalue k. centre `center` is 1-based.
   subroutine atomfp_sensitivity_spectrum(descriptor, system, center, flags, eigenvalues, eigenvectors, ierr)
      type(atomfp_descriptor), intent(in) :: descriptor
      type(atomfp_system), intent(in), target :: system
      integer(c_int64_t), intent(in) :: center
      integer, intent(in) :: flags
      real(c_double), intent(inout), target, contiguous :: eigenvalues(:)
      real(c_double), intent(inout), target, contiguous, optional :: eigenvectors(:, :)
      integer, optional, intent(out) :: ierr
      type(system_view), target :: view
      type(c_ptr) :: vectors_ptr
      integer(c_int64_t) :: n3
      if (.not. make_view(system, view, ierr)) return
      if (.not. finish_ok(c_sensitivity_size(descriptor%ptr, view%c, center - 1, n3), ierr)) return
      n3 = 3 * n3
      if (.not. shape_is(eigenvalues, [n3], "eigenvalues", ierr)) return
      vectors_ptr = c_null_ptr
      if (present(eigenvectors)) then
         if (.not. shape_is(eigenvectors, [n3, n3], "eigenvectors", ierr)) return
         vectors_ptr = c_loc(eigenvectors)
      end if
      call finish(c_sensitivity_spectrum(descriptor%ptr, view%c, center - 1, int(flags, c_int32_t), &
                                         c_loc(eigenvalues), vectors_ptr), ierr)
   end subroutine

   !> Every centre's blind-spot index (the smallest non-rigid eigenvalue of the sensitivity matrix
   !> over the largest) and optionally the number of non-rigid eigenvalues below threshold x the largest.
   subroutine atomfp_blind_spot_indices(descriptor, system, threshold, index, below, ierr)
      type(atomfp_descriptor), intent(in) :: descriptor
      type(atomfp_system), intent(in), target :: system
      real(c_double), intent(in) :: threshold
      real(c_double), intent(inout), target, contiguous :: index(:)
      integer(c_int64_t), intent(inout), target, contiguous, optional :: below(:)
      integer, optional, intent(out) :: ierr
      type(system_view), target :: view
      type(c_ptr) :: below_ptr
      if (.not. make_view(system, view, ierr)) return
      if (.not. shape_is(index, [view%c%n_centers], "index", ierr)) return
      below_ptr = c_null_ptr
      if (present(below)) then
         if (.not. shape_is(below, [view%c%n_centers], "below", ierr)) return
         below_ptr = c_loc(below)
      end if
      call finish(c_blind_spot_indices(descriptor%ptr, view%c, threshold, c_loc(index), below_ptr), ierr)
   end subroutine

   !> Traces a manifold of quasi-constant fingerprint from the environment of centre `center`
   !> (1-based); see atomfp_manifold_trace in the C header for the options and the outputs. The
   !> frame arrays are optional, and the frame capacity is their last extent (all present ones must
   !> agree); n_frames receives the number of frames written:
   !>   species (N), positions (3, N, max_frames), eigenvalues (3N, max_frames),
   !>   displacement (max_frames), distances and random_distances (1 + n_probes, max_frames).
   subroutine atomfp_manifold_trace(descriptor, system, center, n_frames, probes, options, species, positions, &
                                    eigenvalues, displacement, distances, random_distances, ierr)
      type(atomfp_descriptor), intent(in) :: descriptor
      type(atomfp_system), intent(in), target :: system
      integer(c_int64_t), intent(in) :: center
      integer(c_int64_t), intent(out) :: n_frames
      type(atomfp_descriptor), intent(in), optional :: probes(:)
      character(len=*), intent(in), optional :: options
      integer(c_int32_t), intent(inout), target, contiguous, optional :: species(:)
      real(c_double), intent(inout), target, contiguous, optional :: positions(:, :, :)
      real(c_double), intent(inout), target, contiguous, optional :: eigenvalues(:, :)
      real(c_double), intent(inout), target, contiguous, optional :: displacement(:)
      real(c_double), intent(inout), target, contiguous, optional :: distances(:, :)
      real(c_double), intent(inout), target, contiguous, optional :: random_distances(:, :)
      integer, optional, intent(out) :: ierr
      type(system_view), target :: view
      type(c_ptr), allocatable, target :: probe_ptrs(:)
      type(c_ptr) :: probes_ptr, options_ptr, frame_ptrs(6)
      character(kind=c_char, len=:), allocatable, target :: c_options
      integer(c_int64_t) :: n_env, n_probes, max_frames
      integer :: k
      n_frames = 0
      if (.not. make_view(system, view, ierr)) return
      if (.not. finish_ok(c_sensitivity_size(descriptor%ptr, view%c, center - 1, n_env), ierr)) return
      n_probes = 0
      if (present(probes)) n_probes = size(probes)
      allocate (probe_ptrs(max(n_probes, 1_c_int64_t)))
      probe_ptrs = c_null_ptr
      do k = 1, int(n_probes)
         probe_ptrs(k) = probes(k)%ptr
      end do
      probes_ptr = c_null_ptr
      if (n_probes > 0) probes_ptr = c_loc(probe_ptrs)
      options_ptr = c_null_ptr
      if (present(options)) then
         c_options = options//c_null_char
         options_ptr = c_loc(c_options)
      end if
      ! Without frame arrays there is nothing to bound, and the C call only checks the capacity.
      max_frames = huge(max_frames)
      if (present(positions)) max_frames = size(positions, 3)
      if (present(eigenvalues)) max_frames = size(eigenvalues, 2)
      if (present(displacement)) max_frames = size(displacement)
      if (present(distances)) max_frames = size(distances, 2)
      if (present(random_distances)) max_frames = size(random_distances, 2)
      if (present(species)) then
         if (.not. shape_is(species, [n_env], "species", ierr)) return
      end if
      if (present(positions)) then
         if (.not. shape_is(positions, [3_c_int64_t, n_env, max_frames], "positions", ierr)) return
      end if
      if (present(eigenvalues)) then
         if (.not. shape_is(eigenvalues, [3 * n_env, max_frames], "eigenvalues", ierr)) return
      end if
      if (present(displacement)) then
         if (.not. shape_is(displacement, [max_frames], "displacement", ierr)) return
      end if
      if (present(distances)) then
         if (.not. shape_is(distances, [1 + n_probes, max_frames], "distances", ierr)) return
      end if
      if (present(random_distances)) then
         if (.not. shape_is(random_distances, [1 + n_probes, max_frames], "random_distances", ierr)) return
      end if
      ! (Absent optional arrays are not passed on: gfortran's contiguity handling would read them.)
      frame_ptrs = c_null_ptr
      if (present(species)) frame_ptrs(1) = c_loc(species)
      if (present(positions)) frame_ptrs(2) = c_loc(positions)
      if (present(eigenvalues)) frame_ptrs(3) = c_loc(eigenvalues)
      if (present(displacement)) frame_ptrs(4) = c_loc(displacement)
      if (present(distances)) frame_ptrs(5) = c_loc(distances)
      if (present(random_distances)) frame_ptrs(6) = c_loc(random_distances)
      call finish(c_manifold_trace(descriptor%ptr, n_probes, probes_ptr, view%c, center - 1, options_ptr, &
                                   max_frames, n_frames, frame_ptrs(1), frame_ptrs(2), frame_ptrs(3), frame_ptrs(4), &
                                   frame_ptrs(5), frame_ptrs(6)), ierr)
   end subroutine

   ! ==== feature-space analysis =========================================================================

   !> GFRE, GFRD and LFRE between two feature matrices of the same samples, a (n_features_a, n_samples)
   !> and b (n_features_b, n_samples): gfre(1) = GFRE(a -> b), gfre(2) = GFRE(b -> a), likewise gfrd
   !> and lfre; pointwise (n_samples / 2, 2) the per-test-sample errors. options as in the C API.
   subroutine atomfp_feature_space_compare(a, b, gfre, gfrd, lfre, pointwise, options, ierr)
      real(c_double), intent(in), target, contiguous :: a(:, :), b(:, :)
      real(c_double), intent(out), target, optional :: gfre(2), gfrd(2), lfre(2)
      real(c_double), intent(inout), target, contiguous, optional :: pointwise(:, :)
      character(len=*), intent(in), optional :: options
      integer, optional, intent(out) :: ierr
      character(kind=c_char, len=:), allocatable, target :: c_options
      type(c_ptr) :: options_ptr, gfre_ptr, gfrd_ptr, lfre_ptr, pointwise_ptr
      integer(c_int64_t) :: n_test
      if (size(a, 2) /= size(b, 2)) then
         call fail(ATOMFP_ERROR_INVALID_ARGUMENT, "a and b describe different numbers of samples: "// &
                   shape_text(shape(a, kind=c_int64_t))//" and "//shape_text(shape(b, kind=c_int64_t)), ierr)
         return
      end if
      options_ptr = c_null_ptr
      if (present(options)) then
         c_options = options//c_null_char
         options_ptr = c_loc(c_options)
      end if
      gfre_ptr = c_null_ptr
      if (present(gfre)) gfre_ptr = c_loc(gfre)
      gfrd_ptr = c_null_ptr
      if (present(gfrd)) gfrd_ptr = c_loc(gfrd)
      lfre_ptr = c_null_ptr
      if (present(lfre)) lfre_ptr = c_loc(lfre)
      pointwise_ptr = c_null_ptr
      if (present(pointwise)) then
         if (.not. shape_is(pointwise, [size(a, 2, kind=c_int64_t) / 2, 2_c_int64_t], "pointwise", ierr)) return
         pointwise_ptr = c_loc(pointwise)
      end if
      call finish(c_feature_space_compare(size(a, 2, kind=c_int64_t), size(a, 1, kind=c_int64_t), c_loc(a), &
                                          size(b, 1, kind=c_int64_t), c_loc(b), options_ptr, gfre_ptr, gfrd_ptr, &
                                          lfre_ptr, pointwise_ptr, n_test), ierr)
   end subroutine

   !> Chooses n_select features ("cur", "fps_features") or samples ("fps_samples") of x
   !> (n_features, n_samples); selected receives 1-based indices in selection order.
   subroutine atomfp_feature_select(x, method, n_select, selected, ierr)
      real(c_double), intent(in), target, contiguous :: x(:, :)
      character(len=*), intent(in) :: method
      integer, intent(in) :: n_select
      integer(c_int64_t), allocatable, intent(out) :: selected(:)
      integer, optional, intent(out) :: ierr
      integer(c_int64_t), allocatable, target :: chosen(:)
      integer(c_int64_t) :: n_selected
      allocate (chosen(max(n_select, 1)))
      allocate (selected(0))
      if (.not. finish_ok(c_feature_select(size(x, 2, kind=c_int64_t), size(x, 1, kind=c_int64_t), c_loc(x), &
                                           to_c_string(method), int(n_select, c_int64_t), c_loc(chosen), n_selected), &
                          ierr)) return
      selected = chosen(1:n_selected) + 1
   end subroutine

   ! ==== kernel models ==================================================================================

   subroutine atomfp_model_load(path, model, ierr)
      character(len=*), intent(in) :: path
      type(atomfp_model), intent(out) :: model
      integer, optional, intent(out) :: ierr
      call finish(c_model_load(to_c_string(path), model%ptr), ierr)
   end subroutine

   subroutine atomfp_model_save(model, path, ierr)
      type(atomfp_model), intent(in) :: model
      character(len=*), intent(in) :: path
      integer, optional, intent(out) :: ierr
      call finish(c_model_save(model%ptr, to_c_string(path)), ierr)
   end subroutine

   subroutine atomfp_model_free(model)
      type(atomfp_model), intent(inout) :: model
      call c_model_free(model%ptr)
      model%ptr = c_null_ptr
   end subroutine

   !> The descriptor cutoff of the model, Å: neighbour lists need every pair closer than this.
   real(c_double) function atomfp_model_cutoff(model, ierr) result(cutoff)
      type(atomfp_model), intent(in) :: model
      integer, optional, intent(out) :: ierr
      cutoff = 0
      call finish(c_model_cutoff(model%ptr, cutoff), ierr)
   end function

   !> The central species (atomic numbers) the model has weights for.
   subroutine atomfp_model_species(model, species, ierr)
      type(atomfp_model), intent(in) :: model
      integer(c_int32_t), allocatable, target, intent(out) :: species(:)
      integer, optional, intent(out) :: ierr
      integer(c_int64_t) :: n_species, capacity
      integer(c_int32_t) :: status
      n_species = 0
      status = c_model_species(model%ptr, c_null_ptr, 0_c_int64_t, n_species)
      if (status /= ATOMFP_OK .and. status /= ATOMFP_ERROR_BUFFER_TOO_SMALL) then
         call finish(status, ierr)
         return
      end if
      allocate (species(n_species))
      if (n_species == 0) then
         call finish(int(ATOMFP_OK, c_int32_t), ierr)
         return
      end if
      capacity = n_species
      call finish(c_model_species(model%ptr, c_loc(species), capacity, n_species), ierr)
   end subroutine

   !> Energy (eV), per-centre energies (n_centers), forces (3, n_atoms) in eV/Å and the virial
   !> (3, 3) in eV of every centre of `system`; each output is optional.
   subroutine atomfp_model_predict(model, system, energy, center_energies, forces, virial, ierr)
      type(atomfp_model), intent(in) :: model
      type(atomfp_system), intent(in), target :: system
      real(c_double), intent(out), target, optional :: energy
      real(c_double), intent(inout), target, contiguous, optional :: center_energies(:)
      real(c_double), intent(inout), target, contiguous, optional :: forces(:, :)
      real(c_double), intent(inout), target, optional :: virial(3, 3)
      integer, optional, intent(out) :: ierr
      type(system_view), target :: view
      type(c_ptr) :: energy_ptr, center_energies_ptr, forces_ptr, virial_ptr
      if (.not. make_view(system, view, ierr)) return
      if (present(center_energies)) then
         if (.not. shape_is(center_energies, [view%c%n_centers], "center_energies", ierr)) return
      end if
      if (present(forces)) then
         if (.not. shape_is(forces, [3_c_int64_t, view%c%n_atoms], "forces", ierr)) return
      end if
      energy_ptr = c_null_ptr
      if (present(energy)) energy_ptr = c_loc(energy)
      virial_ptr = c_null_ptr
      if (present(virial)) virial_ptr = c_loc(virial)
      center_energies_ptr = c_null_ptr
      if (present(center_energies)) center_energies_ptr = c_loc(center_energies)
      forces_ptr = c_null_ptr
      if (present(forces)) forces_ptr = c_loc(forces)
      call finish(c_model_predict(model%ptr, view%c, energy_ptr, center_energies_ptr, forces_ptr, virial_ptr), ierr)
   end subroutine

   !> The posterior variances (eV**2) of each centre's energy and of the total energy;
   !> ATOMFP_ERROR_NOT_AVAILABLE for a model without a posterior covariance.
   subroutine atomfp_model_predict_variance(model, system, center_variances, energy_variance, ierr)
      type(atomfp_model), intent(in) :: model
      type(atomfp_system), intent(in), target :: system
      real(c_double), intent(inout), target, contiguous, optional :: center_variances(:)
      real(c_double), intent(out), target, optional :: energy_variance
      integer, optional, intent(out) :: ierr
      type(system_view), target :: view
      type(c_ptr) :: centres_ptr, energy_ptr
      if (.not. make_view(system, view, ierr)) return
      centres_ptr = c_null_ptr
      if (present(center_variances)) then
         if (.not. shape_is(center_variances, [view%c%n_centers], "center_variances", ierr)) return
         centres_ptr = c_loc(center_variances)
      end if
      energy_ptr = c_null_ptr
      if (present(energy_variance)) energy_ptr = c_loc(energy_variance)
      call finish(c_model_predict_variance(model%ptr, view%c, centres_ptr, energy_ptr), ierr)
   end subroutine

   !> The derivatives of U = sum_c coefficients(c) * Var e_c: gradient(3, n_atoms) = +dU/dx (eV**2/A)
   !> and virial(3, 3) = -dU/d(strain) (eV**2), each optional; what a bias on the uncertainty needs.
   subroutine atomfp_model_variance_gradient(model, system, coefficients, gradient, virial, ierr)
      type(atomfp_model), intent(in) :: model
      type(atomfp_system), intent(in), target :: system
      real(c_double), intent(in), target, contiguous :: coefficients(:)
      real(c_double), intent(inout), target, contiguous, optional :: gradient(:, :), virial(:, :)
      integer, optional, intent(out) :: ierr
      type(system_view), target :: view
      type(c_ptr) :: gradient_ptr, virial_ptr
      if (.not. make_view(system, view, ierr)) return
      if (.not. shape_is(coefficients, [view%c%n_centers], "coefficients", ierr)) return
      gradient_ptr = c_null_ptr
      if (present(gradient)) then
         if (.not. shape_is(gradient, [3_c_int64_t, view%c%n_atoms], "gradient", ierr)) return
         gradient_ptr = c_loc(gradient)
      end if
      virial_ptr = c_null_ptr
      if (present(virial)) then
         if (.not. shape_is(virial, [3_c_int64_t, 3_c_int64_t], "virial", ierr)) return
         virial_ptr = c_loc(virial)
      end if
      call finish(c_model_variance_gradient(model%ptr, view%c, c_loc(coefficients), gradient_ptr, virial_ptr), ierr)
   end subroutine

   !> Every centre's number of features outside their training range, and optionally the largest
   !> excess beyond it in units of the range's width; ATOMFP_ERROR_NOT_AVAILABLE for older models.
   subroutine atomfp_model_extrapolation(model, system, features_outside, largest_excess, ierr)
      type(atomfp_model), intent(in) :: model
      type(atomfp_system), intent(in), target :: system
      integer(c_int64_t), intent(inout), target, contiguous :: features_outside(:)
      real(c_double), intent(inout), target, contiguous, optional :: largest_excess(:)
      integer, optional, intent(out) :: ierr
      type(system_view), target :: view
      type(c_ptr) :: excess_ptr
      if (.not. make_view(system, view, ierr)) return
      if (.not. shape_is(features_outside, [view%c%n_centers], "features_outside", ierr)) return
      excess_ptr = c_null_ptr
      if (present(largest_excess)) then
         if (.not. shape_is(largest_excess, [view%c%n_centers], "largest_excess", ierr)) return
         excess_ptr = c_loc(largest_excess)
      end if
      call finish(c_model_extrapolation(model%ptr, view%c, c_loc(features_outside), excess_ptr), ierr)
   end subroutine

   ! ==== training =======================================================================================

   !> Creates a trainer from a JSON configuration (the keys of `atomfp fit --config`).
   subroutine atomfp_trainer_create(config, trainer, ierr)
      character(len=*), intent(in) :: config
      type(atomfp_trainer), intent(out) :: trainer
      integer, optional, intent(out) :: ierr
      call finish(c_trainer_create(to_c_string(config), trainer%ptr), ierr)
   end subroutine

   subroutine atomfp_trainer_free(trainer)
      type(atomfp_trainer), intent(inout) :: trainer
      call c_trainer_free(trainer%ptr)
      trainer%ptr = c_null_ptr
   end subroutine

   !> Adds one structure: positions (3, n_atoms), species (n_atoms), cell (3, 3) as columns or
   !> absent for a cluster, pbc (3), and the optional labels energy (eV), forces (3, n_atoms) and
   !> virial (3, 3) (eV).
   subroutine atomfp_trainer_add_structure(trainer, positions, species, cell, pbc, energy, forces, virial, ierr)
      type(atomfp_trainer), intent(in) :: trainer
      real(c_double), intent(in), target, contiguous :: positions(:, :)
      integer(c_int32_t), intent(in), target, contiguous :: species(:)
      real(c_double), intent(in), target, optional :: cell(3, 3)
      logical, intent(in), optional :: pbc(3)
      real(c_double), intent(in), target, optional :: energy
      real(c_double), intent(in), target, contiguous, optional :: forces(:, :)
      real(c_double), intent(in), target, optional :: virial(3, 3)
      integer, optional, intent(out) :: ierr
      integer(c_int32_t), target :: c_pbc(3)
      type(c_ptr) :: cell_ptr, pbc_ptr, energy_ptr, forces_ptr, virial_ptr
      integer(c_int64_t) :: n_atoms
      n_atoms = size(species)
      if (.not. shape_is(positions, [3_c_int64_t, n_atoms], "positions", ierr)) return
      cell_ptr = c_null_ptr
      if (present(cell)) cell_ptr = c_loc(cell)
      pbc_ptr = c_null_ptr
      if (present(pbc)) then
         c_pbc = merge(1_c_int32_t, 0_c_int32_t, pbc)
         pbc_ptr = c_loc(c_pbc)
      end if
      energy_ptr = c_null_ptr
      if (present(energy)) energy_ptr = c_loc(energy)
      forces_ptr = c_null_ptr
      if (present(forces)) then
         if (.not. shape_is(forces, [3_c_int64_t, n_atoms], "forces", ierr)) return
         forces_ptr = c_loc(forces)
      end if
      virial_ptr = c_null_ptr
      if (present(virial)) virial_ptr = c_loc(virial)
      call finish(c_trainer_add_structure(trainer%ptr, n_atoms, c_loc(positions), c_loc(species), cell_ptr, pbc_ptr, &
                                          energy_ptr, forces_ptr, virial_ptr), ierr)
   end subroutine

   !> Sets the keys that weight structure `structure` (1-based, in the order added) in the fit, a
   !> JSON object such as '{"config_type": "slab", "force_sigma": 0.1}' (keys as in docs/models.md).
   subroutine atomfp_trainer_set_structure_keys(trainer, structure, keys, ierr)
      type(atomfp_trainer), intent(in) :: trainer
      integer(c_int64_t), intent(in) :: structure
      character(len=*), intent(in) :: keys
      integer, optional, intent(out) :: ierr
      call finish(c_trainer_set_structure_keys(trainer%ptr, structure - 1, to_c_string(keys)), ierr)
   end subroutine

   integer(c_int64_t) function atomfp_trainer_size(trainer, ierr) result(n_structures)
      type(atomfp_trainer), intent(in) :: trainer
      integer, optional, intent(out) :: ierr
      n_structures = 0
      call finish(c_trainer_size(trainer%ptr, n_structures), ierr)
   end function

   !> Fits a model on every structure added (free it with atomfp_model_free).
   subroutine atomfp_trainer_train(trainer, model, ierr)
      type(atomfp_trainer), intent(in) :: trainer
      type(atomfp_model), intent(out) :: model
      integer, optional, intent(out) :: ierr
      call finish(c_trainer_train(trainer%ptr, model%ptr), ierr)
   end subroutine

   !> The model file's header as JSON: descriptor, kernel, species blocks and what the fit recorded.
   function atomfp_model_header(model, ierr) result(header)
      type(atomfp_model), intent(in) :: model
      integer, optional, intent(out) :: ierr
      character(len=:), allocatable :: header
      header = query_string(MODEL_HEADER, model%ptr, 0_c_int64_t, ierr)
   end function

   !> The last fit's summary as JSON.
   function atomfp_trainer_summary(trainer, ierr) result(summary)
      type(atomfp_trainer), intent(in) :: trainer
      integer, optional, intent(out) :: ierr
      character(len=:), allocatable :: summary
      summary = query_string(TRAINER_SUMMARY, trainer%ptr, 0_c_int64_t, ierr)
   end function

   ! ==== handle state ===================================================================================

   logical function descriptor_associated(handle)
      type(atomfp_descriptor), intent(in) :: handle
      descriptor_associated = c_associated(handle%ptr)
   end function
   logical function model_associated(handle)
      type(atomfp_model), intent(in) :: handle
      model_associated = c_associated(handle%ptr)
   end function
   logical function trainer_associated(handle)
      type(atomfp_trainer), intent(in) :: handle
      trainer_associated = c_associated(handle%ptr)
   end function
   logical function frames_associated(handle)
      type(atomfp_frames), intent(in) :: handle
      frames_associated = c_associated(handle%ptr)
   end function
   logical function neighbours_associated(handle)
      type(atomfp_neighbours), intent(in) :: handle
      neighbours_associated = c_associated(handle%ptr)
   end function

   ! ==== helpers ========================================================================================

   ! Reports a status: into ierr when present, otherwise a failure prints the message and stops.
   subroutine finish(status, ierr)
      integer(c_int32_t), intent(in) :: status
      integer, optional, intent(out) :: ierr
      if (status /= ATOMFP_OK) wrapper_failed_last = .false.
      if (present(ierr)) then
         ierr = status
      else if (status /= ATOMFP_OK) then
         write (error_unit, '(a)') "atomfp: "//atomfp_status_name(int(status))//": "//atomfp_last_error()
         error stop "atomfp: unhandled error (pass ierr to handle errors)"
      end if
   end subroutine

   logical function finish_ok(status, ierr)
      integer(c_int32_t), intent(in) :: status
      integer, optional, intent(out) :: ierr
      call finish(status, ierr)
      finish_ok = status == ATOMFP_OK
   end function

   ! A failure found by this module: the message is kept for atomfp_last_error().
   subroutine fail(status, message, ierr)
      integer, intent(in) :: status
      character(len=*), intent(in) :: message
      integer, optional, intent(out) :: ierr
      wrapper_message = message
      wrapper_failed_last = .true.
      if (present(ierr)) then
         ierr = status
      else
         write (error_unit, '(a)') "atomfp: "//atomfp_status_name(status)//": "//message
         error stop "atomfp: unhandled error (pass ierr to handle errors)"
      end if
   end subroutine

   logical function shape_is(array, expected, name, ierr)
      type(*), intent(in) :: array(..)
      integer(c_int64_t), intent(in) :: expected(:)
      character(len=*), intent(in) :: name
      integer, optional, intent(out) :: ierr
      integer(c_int64_t) :: actual(rank(array))
      actual = shape(array, kind=c_int64_t)
      shape_is = size(actual) == size(expected)
      if (shape_is) shape_is = all(actual == expected)
      if (.not. shape_is) then
         call fail(ATOMFP_ERROR_INVALID_ARGUMENT, name//" has shape "//shape_text(actual)//" but "// &
                   shape_text(expected)//" is needed", ierr)
      end if
   end function

   function shape_text(extents) result(text)
      integer(c_int64_t), intent(in) :: extents(:)
      character(len=:), allocatable :: text
      character(len=24) :: number
      integer :: k
      text = "("
      do k = 1, size(extents)
         write (number, '(i0)') extents(k)
         text = text//trim(number)
         if (k < size(extents)) text = text//", "
      end do
      text = text//")"
   end function

   ! The C view of a system, with 0-based copies of the index arrays.
   logical function make_view(system, view, ierr)
      type(atomfp_system), intent(in), target :: system
      type(system_view), intent(inout), target :: view
      integer, optional, intent(out) :: ierr
      integer(c_int64_t) :: n_atoms, n_centers, n_pairs
      make_view = .false.
      if (.not. (allocated(system%positions) .and. allocated(system%species) .and. allocated(system%centers) &
                 .and. allocated(system%offsets))) then
         call fail(ATOMFP_ERROR_INVALID_ARGUMENT, &
                   "atomfp_system needs positions, species, centers and offsets allocated", ierr)
         return
      end if
      n_atoms = size(system%species)
      n_centers = size(system%centers)
      n_pairs = atomfp_system_n_pairs(system)
      if (.not. shape_is(system%positions, [3_c_int64_t, n_atoms], "atomfp_system%positions", ierr)) return
      if (.not. shape_is(system%offsets, [n_centers + 1], "atomfp_system%offsets", ierr)) return
      if (system%offsets(n_centers + 1) /= n_pairs) then
         call fail(ATOMFP_ERROR_NEIGHBOURS, "atomfp_system%offsets ends at "//shape_text([system%offsets(n_centers + 1)]) &
                   //" but neighbours has "//shape_text([n_pairs])//" entries", ierr)
         return
      end if
      view%c%n_atoms = n_atoms
      view%c%positions = c_loc(system%positions)
      view%c%species = c_loc(system%species)
      view%c%cell = c_null_ptr
      if (allocated(system%cell)) then
         if (.not. shape_is(system%cell, [3_c_int64_t, 3_c_int64_t], "atomfp_system%cell", ierr)) return
         view%c%cell = c_loc(system%cell)
      end if
      view%c%n_centers = n_centers
      view%centers = system%centers - 1
      allocate (view%neighbours(max(n_pairs, 1_c_int64_t)))
      if (n_pairs > 0) view%neighbours(1:n_pairs) = system%neighbours - 1
      view%c%centers = c_loc(view%centers)
      view%c%offsets = c_loc(system%offsets)
      view%c%neighbours = c_loc(view%neighbours)
      view%c%cell_shifts = c_null_ptr
      if (allocated(system%cell_shifts)) then
         if (.not. shape_is(system%cell_shifts, [3_c_int64_t, n_pairs], "atomfp_system%cell_shifts", ierr)) return
         view%c%cell_shifts = c_loc(system%cell_shifts)
      end if
      make_view = .true.
   end function

   ! Calls a string-returning C function twice: once for the length, once for the text. (A
   ! selector rather than a procedure argument: internal procedures as arguments would need
   ! trampolines on an executable stack.)
   function query_string(which, handle, index, ierr) result(text)
      integer, intent(in) :: which
      type(c_ptr), intent(in) :: handle
      integer(c_int64_t), intent(in) :: index
      integer, optional, intent(out) :: ierr
      character(len=:), allocatable :: text
      character(kind=c_char), allocatable, target :: buffer(:)
      integer(c_int64_t) :: required_len, capacity
      integer(c_int32_t) :: status
      integer :: k
      text = ""
      status = call_string_function(which, handle, index, c_null_ptr, 0_c_int64_t, required_len)
      if (status /= ATOMFP_ERROR_BUFFER_TOO_SMALL) then
         call finish(status, ierr)
         return
      end if
      capacity = required_len
      allocate (buffer(capacity))
      status = call_string_function(which, handle, index, c_loc(buffer), capacity, required_len)
      if (.not. finish_ok(status, ierr)) return
      deallocate (text)
      allocate (character(len=required_len - 1) :: text)
      do k = 1, int(required_len) - 1
         text(k:k) = buffer(k)
      end do
   end function

   integer(c_int32_t) function call_string_function(which, handle, index, buffer, buffer_len, required_len) &
      result(status)
      integer, intent(in) :: which
      type(c_ptr), intent(in) :: handle, buffer
      integer(c_int64_t), intent(in) :: index, buffer_len
      integer(c_int64_t), intent(out) :: required_len
      select case (which)
      case (DESCRIPTOR_PARAMETERS)
         status = c_descriptor_parameters(handle, buffer, buffer_len, required_len)
      case (DESCRIPTOR_FEATURE_LABEL)
         status = c_descriptor_feature_label(handle, index, buffer, buffer_len, required_len)
      case (DESCRIPTOR_TYPES)
         status = c_descriptor_types(buffer, buffer_len, required_len)
      case (MODEL_HEADER)
         status = c_model_header(handle, buffer, buffer_len, required_len)
      case default
         status = c_trainer_summary(handle, buffer, buffer_len, required_len)
      end select
   end function

   function to_c_string(text) result(c_text)
      character(len=*), intent(in) :: text
      character(kind=c_char, len=:), allocatable :: c_text
      c_text = text//c_null_char
   end function

   function from_c_string(c_text) result(text)
      type(c_ptr), intent(in) :: c_text
      character(len=:), allocatable :: text
      character(kind=c_char), pointer :: chars(:)
      integer :: n, k
      text = ""
      if (.not. c_associated(c_text)) return
      n = int(c_strlen(c_text))
      call c_f_pointer(c_text, chars, [n])
      deallocate (text)
      allocate (character(len=n) :: text)
      do k = 1, n
         text(k:k) = chars(k)
      end do
   end function

end module atomfp
