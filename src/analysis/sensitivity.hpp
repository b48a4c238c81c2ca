// Sensitivity of a descriptor to the motion of one centre's environment (Parsaeifard & Goedecker
// 2022, eqs 1–4; Pozdnyakov et al., §2): the Jacobian J of the centre's features with respect to
// the Cartesian positions of the environment's atoms (the centre first, then every neighbour inside
// the cutoff in list order; periodic images count as separate atoms), the sensitivity matrix
// S = J^T J, its spectrum, and the same with the rigid-body modes projected out.
#pragma once

#include "core/system.hpp"
#include "descriptors/descriptor.hpp"

#include <cstdint>
#include <vector>

namespace atomfp {

// One centre's environment as an open cluster: the centre is atom 0, every other atom is its
// neighbour (r_0a = x_a - x_0), whether or not it is still inside the cutoff after the cluster moves.
struct EnvironmentCluster {
    int64_t n_atoms = 0;            // N, the centre included
    std::vector<double> positions;  // [N][3]
    std::vector<int32_t> species;   // [N]
};

// The centre (at the origin) and its neighbours inside `cutoff`, in list order. Throws
// Error(invalid_argument) for a centre index outside [0, n_centers).
EnvironmentCluster environment_cluster(const SystemView& system, int64_t center, double cutoff);

struct EnvironmentJacobian {
    int64_t n_atoms = 0;                // N, the centre included
    int64_t n_features = 0;
    std::vector<double> positions;      // [N][3] relative to the centre (the centre is at 0)
    std::vector<double> features;       // [n_features] of the centre
    std::vector<double> transposed;     // J^T [3N][n_features]: row 3a + alpha is d features / d x_a,alpha
};

// The features of atom 0 of a cluster.
std::vector<double> cluster_features(const Descriptor& descriptor, const EnvironmentCluster& cluster);

// The features of atom 0 of a cluster and their Jacobian with respect to every atom's position.
EnvironmentJacobian cluster_jacobian(const Descriptor& descriptor, const EnvironmentCluster& cluster);

// cluster_jacobian of environment_cluster(system, center, descriptor.cutoff()).
EnvironmentJacobian environment_jacobian(const Descriptor& descriptor, const SystemView& system, int64_t center);

// Orthonormal rigid-body modes of N atoms at `positions` (relative to the rotation centre): three
// translations and up to three rotations about the origin (fewer for collinear atoms); rows of
// length 3N.
std::vector<double> rigid_body_modes(int64_t n_atoms, const double* positions);

// The rigid-body modes and, in `complement`, an orthonormal basis of the rest, rows of length 3N.
void rigid_body_basis(int64_t n_atoms, const double* positions, std::vector<double>& rigid, std::vector<double>& complement);

enum SensitivityFlags : int32_t { sensitivity_remove_rigid = 1, sensitivity_scale_max = 2 };

// S = J^T J [3N][3N]; with remove_rigid, P S P with P the projector onto the complement of the rigid
// modes; with scale_max, divided by its largest eigenvalue.
std::vector<double> sensitivity_matrix(const EnvironmentJacobian& jacobian, int32_t flags);

// Eigenvalues of S (ascending, rounding-level negatives reported as 0) and eigenvectors (rows, or
// not computed if NULL). With remove_rigid
// the rigid modes come first with eigenvalue exactly 0 (their eigenvectors are the rigid modes),
// followed by the ascending spectrum of S restricted to the complement. Returns the number of rigid
// modes (6, or 5 for collinear atoms); with them kept they are the smallest eigenvalues.
int64_t sensitivity_spectrum(const EnvironmentJacobian& jacobian, int32_t flags, std::vector<double>& eigenvalues,
                             std::vector<double>* eigenvectors);

// How close a centre's fingerprint is to a blind spot, where moving atoms does not change it:
// `index` = the smallest non-rigid eigenvalue of S = JᵀJ over the largest (0 on a manifold of
// constant fingerprint, ~1 when every motion is seen alike), `below` = the number of non-rigid
// eigenvalues below `threshold` times the largest.
struct BlindSpot {
    double index = 0.0;
    int64_t below = 0;
};
BlindSpot blind_spot(const Descriptor& descriptor, const SystemView& system, int64_t center, double threshold);

// Largest over smallest non-rigid singular value of J, from an ascending spectrum of S whose first
// n_rigid entries are the rigid modes; infinite when a non-rigid singular value vanishes.
double condition_number(const std::vector<double>& eigenvalues, int64_t n_rigid);

}  // namespace atomfp
