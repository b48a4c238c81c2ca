! A small CP2K-like molecular-dynamics driver that takes its energies, forces and virial from an
! atomfp model. The driver owns everything a host code owns: the atoms, the cell, a Verlet
! neighbour list with a skin (rebuilt only when an atom has moved more than half the skin since the
! last build), the integrators and the output. atomfp only evaluates the model on that list.
!
!   fortran_md input.nml
!
! The input is a Fortran namelist &md (see examples/fortran_md/README.md and si64_nve.nml).
! Units: Å, fs, eV, amu, K.

module md_units
   use, intrinsic :: iso_c_binding, only: c_double
   implicit none
   integer, parameter :: dp = c_double
   real(dp), parameter :: boltzmann = 8.617333262d-5            ! eV/K
   real(dp), parameter :: amu_angstrom2_per_fs2 = 103.642697d0  ! eV
   real(dp), parameter :: ev_per_angstrom3_in_gpa = 160.21766208d0
end module

! The host's atoms: positions, velocities, forces, masses, a periodic cell, and the atomfp view
! of them with the host-built neighbour list.
module md_state
   use, intrinsic :: iso_c_binding, only: c_int32_t, c_int64_t
   use md_units
   use atomfp
   implicit none

   type :: particles
      integer :: n = 0
      real(dp), allocatable :: x(:, :), v(:, :), f(:, :)   ! (3, n)
      real(dp), allocatable :: mass(:)
      integer(c_int32_t), allocatable :: species(:)
      real(dp) :: cell(3, 3) = 0                           ! lattice vectors as columns
      real(dp) :: energy = 0, virial(3, 3) = 0
   end type

   ! A Verlet list for atomfp: every pair closer than cutoff + skin, in both directions, with the
   ! image shifts of the periodic cell, valid while no atom has moved more than skin / 2.
   type :: verlet_list
      real(dp) :: cutoff = 0, skin = 0
      real(dp), allocatable :: x_at_build(:, :)
      integer :: builds = 0
      type(atomfp_system) :: system
   end type

contains

   ! A diamond crystal of repeat**3 conventional cells.
   subroutine make_diamond(atoms, lattice, repeat, species, mass)
      type(particles), intent(out) :: atoms
      real(dp), intent(in) :: lattice, mass
      integer, intent(in) :: repeat, species
      real(dp), parameter :: basis(3, 8) = reshape([0d0, 0d0, 0d0, 0d0, .5d0, .5d0, .5d0, 0d0, .5d0, .5d0, .5d0, 0d0, &
                                                    .25d0, .25d0, .25d0, .25d0, .75d0, .75d0, .75d0, .25d0, .75d0, &
                                                    .75d0, .75d0, .25d0], [3, 8])
      integer :: i, j, k, b, n
      atoms%n = 8 * repeat**3
      allocate (atoms%x(3, atoms%n), atoms%v(3, atoms%n), atoms%f(3, atoms%n), atoms%mass(atoms%n), &
                atoms%species(atoms%n))
      n = 0
      do i = 0, repeat - 1
         do j = 0, repeat - 1
            do k = 0, repeat - 1
               do b = 1, 8
                  n = n + 1
                  atoms%x(:, n) = lattice * (basis(:, b) + [i, j, k])
               end do
            end do
         end do
      end do
      atoms%species = int(species, c_int32_t)
      atoms%mass = mass
      atoms%v = 0
      atoms%f = 0
      atoms%cell = 0
      do k = 1, 3
         atoms%cell(k, k) = lattice * repeat
      end do
   end subroutine

   pure function inverse3(a) result(inv)
      real(dp), intent(in) :: a(3, 3)
      real(dp) :: inv(3, 3), det
      inv(1, 1) = a(2, 2) * a(3, 3) - a(2, 3) * a(3, 2)
      inv(1, 2) = a(1, 3) * a(3, 2) - a(1, 2) * a(3, 3)
      inv(1, 3) = a(1, 2) * a(2, 3) - a(1, 3) * a(2, 2)
      inv(2, 1) = a(2, 3) * a(3, 1) - a(2, 1) * a(3, 3)
      inv(2, 2) = a(1, 1) * a(3, 3) - a(1, 3) * a(3, 1)
      inv(2, 3) = a(1, 3) * a(2, 1) - a(1, 1) * a(2, 3)
      inv(3, 1) = a(2, 1) * a(3, 2) - a(2, 2) * a(3, 1)
      inv(3, 2) = a(1, 2) * a(3, 1) - a(1, 1) * a(3, 2)
      inv(3, 3) = a(1, 1) * a(2, 2) - a(1, 2) * a(2, 1)
      det = a(1, 1) * inv(1, 1) + a(1, 2) * inv(2, 1) + a(1, 3) * inv(3, 1)
      inv = inv / det
   end function

   pure real(dp) function volume(cell)
      real(dp), intent(in) :: cell(3, 3)
      volume = abs(cell(1, 1) * (cell(2, 2) * cell(3, 3) - cell(3, 2) * cell(2, 3)) &
                   - cell(1, 2) * (cell(2, 1) * cell(3, 3) - cell(3, 1) * cell(2, 3)) &
                   + cell(1, 3) * (cell(2, 1) * cell(3, 2) - cell(3, 1) * cell(2, 2)))
   end function

   ! Wraps the atoms into the cell and lists every pair within cutoff + skin with its image shift.
   ! All pairs and all images within reach are tried: O(n^2) per build, which is fine for the few
   ! hundred atoms of an example (a production code would use cell lists here).
   subroutine build_verlet_list(atoms, list)
      type(particles), intent(inout) :: atoms
      type(verlet_list), intent(inout) :: list
      real(dp) :: reciprocal(3, 3), s(3), d(3), reach, reach2
      integer :: n_shift(3), i, j, a, b, c, n_pairs, capacity
      integer(c_int64_t), allocatable :: neighbours(:)
      integer(c_int32_t), allocatable :: shifts(:, :)

      reciprocal = inverse3(atoms%cell)   ! row k is the reciprocal vector of lattice vector k
      do i = 1, atoms%n
         s = matmul(reciprocal, atoms%x(:, i))
         atoms%x(:, i) = matmul(atoms%cell, s - floor(s))
      end do
      reach = list%cutoff + list%skin
      reach2 = reach**2
      ! The number of images needed along lattice vector k: reach over the distance between the
      ! lattice planes spanned by the other two vectors.
      do i = 1, 3
         n_shift(i) = ceiling(reach * norm2(reciprocal(i, :)))
      end do

      capacity = 64 * atoms%n
      allocate (neighbours(capacity), shifts(3, capacity))
      if (allocated(list%system%offsets)) deallocate (list%system%offsets)
      allocate (list%system%offsets(atoms%n + 1))
      list%system%offsets(1) = 0
      n_pairs = 0
      do i = 1, atoms%n
         do j = 1, atoms%n
            do a = -n_shift(1), n_shift(1)
               do b = -n_shift(2), n_shift(2)
                  do c = -n_shift(3), n_shift(3)
                     if (i == j .and. a == 0 .and. b == 0 .and. c == 0) cycle
                     d = atoms%x(:, j) - atoms%x(:, i) + matmul(atoms%cell, real([a, b, c], dp))
                     if (sum(d**2) >= reach2) cycle
                     if (n_pairs == capacity) call grow(neighbours, shifts, capacity)
                     n_pairs = n_pairs + 1
                     neighbours(n_pairs) = j
                     shifts(:, n_pairs) = [a, b, c]
                  end do
               end do
            end do
         end do
         list%system%offsets(i + 1) = n_pairs
      end do
      list%system%neighbours = neighbours(1:n_pairs)
      list%system%cell_shifts = shifts(:, 1:n_pairs)
      list%system%centers = [(int(i, c_int64_t), i=1, atoms%n)]
      list%system%species = atoms%species
      list%system%cell = atoms%cell
      list%x_at_build = atoms%x
      list%builds = list%builds + 1
   end subroutine

   subroutine grow(neighbours, shifts, capacity)
      integer(c_int64_t), allocatable, intent(inout) :: neighbours(:)
      integer(c_int32_t), allocatable, intent(inout) :: shifts(:, :)
      integer, intent(inout) :: capacity
      integer(c_int64_t), allocatable :: more_neighbours(:)
      integer(c_int32_t), allocatable :: more_shifts(:, :)
      allocate (more_neighbours(2 * capacity), more_shifts(3, 2 * capacity))
      more_neighbours(1:capacity) = neighbours
      more_shifts(:, 1:capacity) = shifts
      call move_alloc(more_neighbours, neighbours)
      call move_alloc(more_shifts, shifts)
      capacity = 2 * capacity
   end subroutine

   logical function list_is_stale(atoms, list)
      type(particles), intent(in) :: atoms
      type(verlet_list), intent(in) :: list
      list_is_stale = maxval(sum((atoms%x - list%x_at_build)**2, dim=1)) > (0.5d0 * list%skin)**2
   end function

   ! Energy, forces and virial from the model, on the host's own list (rebuilt when stale).
   subroutine compute_forces(model, atoms, list)
      type(atomfp_model), intent(in) :: model
      type(particles), intent(inout) :: atoms
      type(verlet_list), intent(inout) :: list
      if (list%builds == 0 .or. list_is_stale(atoms, list)) call build_verlet_list(atoms, list)
      list%system%positions = atoms%x
      call atomfp_model_predict(model, list%system, energy=atoms%energy, forces=atoms%f, virial=atoms%virial)
   end subroutine

   real(dp) function kinetic_energy(atoms)
      type(particles), intent(in) :: atoms
      kinetic_energy = 0.5d0 * amu_angstrom2_per_fs2 * sum(atoms%mass * sum(atoms%v**2, dim=1))
   end function

   ! The kinetic temperature with the centre-of-mass motion removed (3n - 3 degrees of freedom).
   real(dp) function temperature(atoms)
      type(particles), intent(in) :: atoms
      temperature = 2 * kinetic_energy(atoms) / ((3 * atoms%n - 3) * boltzmann)
   end function

   ! Pressure from the kinetic energy and the virial, GPa.
   real(dp) function pressure(atoms)
      type(particles), intent(in) :: atoms
      real(dp) :: trace
      trace = atoms%virial(1, 1) + atoms%virial(2, 2) + atoms%virial(3, 3)
      pressure = (2 * kinetic_energy(atoms) + trace) / (3 * volume(atoms%cell)) * ev_per_angstrom3_in_gpa
   end function

end module

module md_random
   use md_units
   implicit none
contains
   subroutine seed_generator(seed)
      integer, intent(in) :: seed
      integer, allocatable :: state(:)
      integer :: n, k
      call random_seed(size=n)
      allocate (state(n))
      state = [(seed + 7919 * k, k=1, n)]
      call random_seed(put=state)
   end subroutine

   ! Standard normal numbers (Box-Muller).
   subroutine gaussians(values)
      real(dp), intent(out) :: values(:, :)
      real(dp), allocatable :: u1(:, :), u2(:, :)
      real(dp), parameter :: two_pi = 8 * atan(1d0)
      allocate (u1, mold=values)
      allocate (u2, mold=values)
      call random_number(u1)
      call random_number(u2)
      values = sqrt(-2 * log(1 - u1)) * cos(two_pi * u2)
   end subroutine
end module

program fortran_md
   use, intrinsic :: iso_fortran_env, only: output_unit
   use md_units
   use md_state
   use md_random
   use atomfp
   implicit none

   ! ---- input ------------------------------------------------------------------------------------------
   character(len=512) :: model = "examples/models/si_sw/si_sw_soap.afp"
   character(len=16) :: ensemble = "nve"           ! nve | langevin
   integer :: repeat = 2                           ! diamond cells per direction
   real(dp) :: lattice = 5.431d0                   ! Å
   integer :: species = 14
   real(dp) :: mass = 28.0855d0                    ! amu
   real(dp) :: initial_temperature = 2000          ! K, Maxwell-Boltzmann velocities
   real(dp) :: temperature_target = 1000           ! K, Langevin thermostat
   real(dp) :: friction = 0.01d0                   ! 1/fs, Langevin thermostat
   real(dp) :: timestep = 1                        ! fs
   integer :: steps = 2000
   real(dp) :: skin = 1                            ! Å
   integer :: seed = 2024
   integer :: thermo_every = 10
   character(len=512) :: log = "md.log"
   character(len=512) :: trajectory = "md.extxyz"
   integer :: trajectory_every = 100
   logical :: check_forces = .true.
   namelist /md/ model, ensemble, repeat, lattice, species, mass, initial_temperature, temperature_target, &
      friction, timestep, steps, skin, seed, thermo_every, log, trajectory, trajectory_every, check_forces

   type(atomfp_model) :: potential
   type(particles) :: atoms
   type(verlet_list) :: list
   character(len=512) :: input
   integer :: unit, log_unit, trajectory_unit, step, ierr
   real(dp) :: thermostat_work, e_start

   call get_command_argument(1, input)
   if (len_trim(input) == 0) error stop "usage: fortran_md input.nml"
   open (newunit=unit, file=trim(input), status="old", action="read", iostat=ierr)
   if (ierr /= 0) error stop "fortran_md: cannot open the input file"
   read (unit, nml=md, iostat=ierr)
   if (ierr /= 0) error stop "fortran_md: the input file has no valid &md namelist"
   close (unit)
   if (ensemble /= "nve" .and. ensemble /= "langevin") error stop "fortran_md: ensemble must be nve or langevin"

   call atomfp_model_load(trim(model), potential, ierr)
   if (ierr /= ATOMFP_OK) then
      write (*, '(a)') "fortran_md: "//atomfp_last_error()
      error stop 1
   end if
   call make_diamond(atoms, lattice, repeat, species, mass)
   list%cutoff = atomfp_model_cutoff(potential)
   list%skin = skin
   call seed_generator(seed)
   call initial_velocities(atoms, initial_temperature)

   call compute_forces(potential, atoms, list)

   write (*, '(a, i0, a, f0.3, a, a, a, i0, a, f0.2, a)') "fortran_md: ", atoms%n, " atoms, cutoff ", list%cutoff, &
      " Å, ", trim(ensemble), ", ", steps, " steps of ", timestep, " fs"
   open (newunit=log_unit, file=trim(log), status="replace", action="write")
   write (log_unit, '(a)') "# step time_fs temperature_K potential_eV kinetic_eV total_eV conserved_eV pressure_GPa" &
      //" list_builds"
   open (newunit=trajectory_unit, file=trim(trajectory), status="replace", action="write")
   thermostat_work = 0
   e_start = atoms%energy + kinetic_energy(atoms)
   call write_thermo(0)
   call write_frame(trajectory_unit, atoms)
   do step = 1, steps
      if (ensemble == "nve") then
         call velocity_verlet_step()
      else
         call langevin_step()
      end if
      if (mod(step, thermo_every) == 0) call write_thermo(step)
      if (mod(step, trajectory_every) == 0) call write_frame(trajectory_unit, atoms)
   end do
   close (log_unit)
   close (trajectory_unit)
   if (check_forces) call compare_with_library_list(potential, atoms)
   write (*, '(a, f0.6, a, i0, a)') "fortran_md: conserved-energy change ", &
      (atoms%energy + kinetic_energy(atoms) - thermostat_work - e_start) / atoms%n * 1000, " meV/atom, ", &
      list%builds, " neighbour-list builds"
   call atomfp_model_free(potential)

contains

   subroutine initial_velocities(atoms, kelvin)
      type(particles), intent(inout) :: atoms
      real(dp), intent(in) :: kelvin
      integer :: k
      call gaussians(atoms%v)
      do k = 1, 3
         atoms%v(k, :) = atoms%v(k, :) * sqrt(boltzmann * kelvin / (atoms%mass * amu_angstrom2_per_fs2))
      end do
      call remove_drift(atoms)
      if (kelvin > 0) atoms%v = atoms%v * sqrt(kelvin / temperature(atoms))
   end subroutine

   subroutine remove_drift(atoms)
      type(particles), intent(inout) :: atoms
      real(dp) :: momentum(3)
      integer :: k
      momentum = matmul(atoms%v, atoms%mass)
      do k = 1, 3
         atoms%v(k, :) = atoms%v(k, :) - momentum(k) / sum(atoms%mass)
      end do
   end subroutine

   subroutine kick(dt)
      real(dp), intent(in) :: dt
      integer :: k
      do k = 1, 3
         atoms%v(k, :) = atoms%v(k, :) + dt * atoms%f(k, :) / (atoms%mass * amu_angstrom2_per_fs2)
      end do
   end subroutine

   subroutine velocity_verlet_step()
      call kick(0.5d0 * timestep)
      atoms%x = atoms%x + timestep * atoms%v
      call compute_forces(potential, atoms, list)
      call kick(0.5d0 * timestep)
   end subroutine

   ! BAOAB Langevin splitting (Leimkuhler & Matthews): exact Ornstein-Uhlenbeck step in the middle.
   ! The energy the thermostat adds is accumulated so that E - work is the conserved quantity.
   subroutine langevin_step()
      real(dp) :: c1, before
      real(dp), allocatable :: noise(:, :)
      integer :: k
      allocate (noise, mold=atoms%v)
      call kick(0.5d0 * timestep)
      atoms%x = atoms%x + 0.5d0 * timestep * atoms%v
      before = kinetic_energy(atoms)
      c1 = exp(-friction * timestep)
      call gaussians(noise)
      do k = 1, 3
         atoms%v(k, :) = c1 * atoms%v(k, :) + sqrt((1 - c1**2) * boltzmann * temperature_target &
                                                   / (atoms%mass * amu_angstrom2_per_fs2)) * noise(k, :)
      end do
      thermostat_work = thermostat_work + kinetic_energy(atoms) - before
      atoms%x = atoms%x + 0.5d0 * timestep * atoms%v
      call compute_forces(potential, atoms, list)
      call kick(0.5d0 * timestep)
   end subroutine

   subroutine write_thermo(step)
      integer, intent(in) :: step
      real(dp) :: kinetic
      kinetic = kinetic_energy(atoms)
      write (log_unit, '(i8, f12.2, f12.3, 4es24.15, f12.5, i8)') step, step * timestep, temperature(atoms), &
         atoms%energy, kinetic, atoms%energy + kinetic, atoms%energy + kinetic - thermostat_work, pressure(atoms), &
         list%builds
   end subroutine

   ! An extended XYZ frame that ASE reads: positions, forces, energy, stress-free virial.
   subroutine write_frame(unit, atoms)
      integer, intent(in) :: unit
      type(particles), intent(in) :: atoms
      integer :: i
      write (unit, '(i0)') atoms%n
      write (unit, '(a, 9(f0.10, 1x), a, es23.15, a)') 'Lattice="', atoms%cell, &
         '" Properties=species:S:1:pos:R:3:forces:R:3 energy=', atoms%energy, ' pbc="T T T"'
      do i = 1, atoms%n
         write (unit, '(a, 6f18.10)') trim(element_symbol(int(atoms%species(i)))), atoms%x(:, i), atoms%f(:, i)
      end do
   end subroutine

   character(len=2) function element_symbol(z)
      integer, intent(in) :: z
      character(len=2), parameter :: symbols(18) = ["H ", "He", "Li", "Be", "B ", "C ", "N ", "O ", "F ", "Ne", &
                                                    "Na", "Mg", "Al", "Si", "P ", "S ", "Cl", "Ar"]
      element_symbol = "X"
      if (z >= 1 .and. z <= size(symbols)) element_symbol = symbols(z)
   end function

   ! The forces through the driver's own Verlet list (built with a skin, possibly several steps ago)
   ! against those through atomfp's list builder on the same configuration.
   subroutine compare_with_library_list(model, atoms)
      type(atomfp_model), intent(in) :: model
      type(particles), intent(in) :: atoms
      type(atomfp_neighbours) :: library_list
      type(atomfp_system) :: system
      real(dp) :: energy, virial(3, 3)
      real(dp), allocatable :: forces(:, :)
      allocate (forces(3, atoms%n))
      call atomfp_neighbours_build(atoms%x, atoms%species, atomfp_model_cutoff(model), library_list, cell=atoms%cell)
      call atomfp_neighbours_system(library_list, system)
      call atomfp_neighbours_free(library_list)
      call atomfp_model_predict(model, system, energy=energy, forces=forces, virial=virial)
      write (*, '(a, es10.3, a, es10.3, a, es10.3, a, es10.3)') "force check: own list vs atomfp_neighbours_build: "// &
         "max |dF| ", maxval(abs(forces - atoms%f)), " eV/A of max |F| ", maxval(abs(forces)), ", |dE| ", &
         abs(energy - atoms%energy), " eV, max |dW| ", maxval(abs(virial - atoms%virial))
   end subroutine

end program
