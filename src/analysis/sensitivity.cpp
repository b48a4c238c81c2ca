#include "analysis/sensitivity.hpp"

#include "core/blas.hpp"
#include "core/error.hpp"
#include "core/lapack.hpp"

#include <algorithm>
#include <cmath>

namespace atomfp {

EnvironmentCluster environment_cluster(const SystemView& system, int64_t center, double cutoff) {
    validate_system(system);
    if (center < 0 || center >= system.n_centers) {
        fail(Status::invalid_argument, "center ", center, " is out of range [0, ", system.n_centers, ")");
    }
    Environment environment;
    environment.build(system, center, cutoff);
    EnvironmentCluster cluster;
    cluster.n_atoms = 1 + environment.size();
    cluster.positions.assign(3, 0.0);
    cluster.positions.insert(cluster.positions.end(), environment.displacements.begin(), environment.displacements.end());
    cluster.species.push_back(environment.center_species);
    cluster.species.insert(cluster.species.end(), environment.species.begin(), environment.species.end());
    return cluster;
}

namespace {

// Atom 0 of the cluster as the only centre, every other atom listed as its neighbour.
CentreView cluster_system(const EnvironmentCluster& cluster) {
    if (cluster.n_atoms < 1 || static_cast<int64_t>(cluster.positions.size()) != 3 * cluster.n_atoms ||
        static_cast<int64_t>(cluster.species.size()) != cluster.n_atoms) {
        fail(Status::invalid_argument, "an environment cluster needs N >= 1 atoms with 3N coordinates and N species");
    }
    return CentreView::cluster(cluster.n_atoms, cluster.positions.data(), cluster.species.data(), 0);
}

}  // namespace

std::vector<double> cluster_features(const Descriptor& descriptor, const EnvironmentCluster& cluster) {
    std::vector<double> features(descriptor.feature_count());
    compute(descriptor, cluster_system(cluster).view(), features.data(), nullptr);
    return features;
}

EnvironmentJacobian cluster_jacobian(const Descriptor& descriptor, const EnvironmentCluster& cluster) {
    const CentreView system = cluster_system(cluster);
    const int64_t nf = descriptor.feature_count(), n = cluster.n_atoms;
    EnvironmentJacobian out;
    out.n_atoms = n;
    out.n_features = nf;
    out.features.resize(nf);
    // Gradient blocks, the centre's and then one per neighbour, i.e. one per cluster atom in order,
    // each [3][n_features]: together exactly J^T.
    out.transposed.resize(static_cast<std::size_t>(n) * 3 * nf);
    compute(descriptor, system.view(), out.features.data(), out.transposed.data());
    out.positions.resize(3 * n);
    for (int64_t k = 0; k < 3 * n; ++k) out.positions[k] = cluster.positions[k] - cluster.positions[k % 3];
    return out;
}

EnvironmentJacobian environment_jacobian(const Descriptor& descriptor, const SystemView& system, int64_t center) {
    return cluster_jacobian(descriptor, environment_cluster(system, center, descriptor.cutoff()));
}

std::vector<double> rigid_body_modes(int64_t n_atoms, const double* positions) {
    const int64_t n = 3 * n_atoms;
    std::vector<double> rigid, mode(n);
    // Gram–Schmidt (twice, for orthogonality to rounding) of the six candidate modes.
    auto add = [&](std::vector<double> v) {
        double original = 0.0;
        for (double x : v) original += x * x;
        for (int pass = 0; pass < 2; ++pass) {
            for (std::size_t r = 0; r < rigid.size() / n; ++r) {
                const double* b = rigid.data() + r * n;
                double d = 0.0;
                for (int64_t k = 0; k < n; ++k) d += v[k] * b[k];
                for (int64_t k = 0; k < n; ++k) v[k] -= d * b[k];
            }
        }
        double norm = 0.0;
        for (double x : v) norm += x * x;
        if (norm <= 1e-20 * std::max(original, 1.0)) return;  // dependent (collinear atoms)
        for (double& x : v) x /= std::sqrt(norm);
        rigid.insert(rigid.end(), v.begin(), v.end());
    };
    for (int axis = 0; axis < 3; ++axis) {
        std::fill(mode.begin(), mode.end(), 0.0);
        for (int64_t a = 0; a < n_atoms; ++a) mode[3 * a + axis] = 1.0;
        add(mode);
    }
    for (int axis = 0; axis < 3; ++axis) {
        double w[3] = {0.0, 0.0, 0.0};
        w[axis] = 1.0;
        for (int64_t a = 0; a < n_atoms; ++a) {
            const double* p = positions + 3 * a;
            mode[3 * a] = w[1] * p[2] - w[2] * p[1];
            mode[3 * a + 1] = w[2] * p[0] - w[0] * p[2];
            mode[3 * a + 2] = w[0] * p[1] - w[1] * p[0];
        }
        add(mode);
    }
    return rigid;
}

void rigid_body_basis(int64_t n_atoms, const double* positions, std::vector<double>& rigid, std::vector<double>& complement) {
    const int64_t n = 3 * n_atoms;
    rigid = rigid_body_modes(n_atoms, positions);
    // The complement: eigenvectors of the projector I - R^T R with eigenvalue 1.
    const int64_t r = static_cast<int64_t>(rigid.size()) / n;
    std::vector<double> projector(static_cast<std::size_t>(n) * n, 0.0), eigenvalues;
    for (int64_t k = 0; k < n; ++k) projector[k * n + k] = 1.0;
    gemm(true, false, n, n, r, -1.0, rigid.data(), n, rigid.data(), n, 1.0, projector.data(), n);
    symmetric_eigen(static_cast<int>(n), projector, eigenvalues);
    complement.assign(projector.begin() + r * n, projector.end());  // ascending: r zeros first
}

namespace {

// BLAS need not round the two triangles of a product like J^T J identically; these matrices are
// symmetric by definition.
void symmetrize(std::vector<double>& a, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = i + 1; j < n; ++j) a[i * n + j] = a[j * n + i] = 0.5 * (a[i * n + j] + a[j * n + i]);
}

// B S B^T for the rows B of `basis`.
std::vector<double> restricted(const std::vector<double>& S, const std::vector<double>& basis, int64_t n) {
    const int64_t m = static_cast<int64_t>(basis.size()) / n;
    std::vector<double> BS(static_cast<std::size_t>(m) * n), out(static_cast<std::size_t>(m) * m);
    gemm(false, false, m, n, n, 1.0, basis.data(), n, S.data(), n, 0.0, BS.data(), n);
    gemm(false, true, m, m, n, 1.0, BS.data(), n, basis.data(), n, 0.0, out.data(), m);
    symmetrize(out, m);
    return out;
}

std::vector<double> gram(const EnvironmentJacobian& jacobian) {
    const int64_t n = 3 * jacobian.n_atoms;
    std::vector<double> S(static_cast<std::size_t>(n) * n);
    gemm(false, true, n, n, jacobian.n_features, 1.0, jacobian.transposed.data(), jacobian.n_features,
         jacobian.transposed.data(), jacobian.n_features, 0.0, S.data(), n);
    symmetrize(S, n);
    return S;
}

void check_flags(int32_t flags) {
    if (flags & ~(sensitivity_remove_rigid | sensitivity_scale_max)) {
        fail(Status::invalid_argument, "unknown sensitivity flags ", flags,
             " (known: ATOMFP_SENSITIVITY_REMOVE_RIGID = 1, ATOMFP_SENSITIVITY_SCALE_MAX = 2)");
    }
}

}  // namespace

std::vector<double> sensitivity_matrix(const EnvironmentJacobian& jacobian, int32_t flags) {
    check_flags(flags);
    const int64_t n = 3 * jacobian.n_atoms;
    std::vector<double> S = gram(jacobian);
    if (flags & sensitivity_remove_rigid) {
        std::vector<double> rigid, complement;
        rigid_body_basis(jacobian.n_atoms, jacobian.positions.data(), rigid, complement);
        const int64_t m = static_cast<int64_t>(complement.size()) / n;
        // P S P = B^T (B S B^T) B
        const std::vector<double> inner = restricted(S, complement, n);
        std::vector<double> tmp(static_cast<std::size_t>(m) * n);
        gemm(false, false, m, n, m, 1.0, inner.data(), m, complement.data(), n, 0.0, tmp.data(), n);
        gemm(true, false, n, n, m, 1.0, complement.data(), n, tmp.data(), n, 0.0, S.data(), n);
        symmetrize(S, n);
    }
    if (flags & sensitivity_scale_max) {
        std::vector<double> copy = S, eigenvalues;
        symmetric_eigen(static_cast<int>(n), copy, eigenvalues);
        const double largest = eigenvalues.empty() ? 0.0 : eigenvalues.back();
        if (largest > 0.0)
            for (double& x : S) x /= largest;
    }
    return S;
}

int64_t sensitivity_spectrum(const EnvironmentJacobian& jacobian, int32_t flags, std::vector<double>& eigenvalues,
                             std::vector<double>* eigenvectors) {
    check_flags(flags);
    const int64_t n = 3 * jacobian.n_atoms;
    std::vector<double> S = gram(jacobian);
    int64_t n_rigid = 0;
    if (!(flags & sensitivity_remove_rigid)) {
        symmetric_eigen(static_cast<int>(n), S, eigenvalues);
        if (eigenvectors) *eigenvectors = std::move(S);
        n_rigid = static_cast<int64_t>(rigid_body_modes(jacobian.n_atoms, jacobian.positions.data()).size()) / n;
    } else {
        std::vector<double> rigid, complement;
        rigid_body_basis(jacobian.n_atoms, jacobian.positions.data(), rigid, complement);
        const int64_t r = static_cast<int64_t>(rigid.size()) / n, m = n - r;
        n_rigid = r;
        std::vector<double> inner = restricted(S, complement, n), reduced;
        symmetric_eigen(static_cast<int>(m), inner, reduced);
        eigenvalues.assign(r, 0.0);
        eigenvalues.insert(eigenvalues.end(), reduced.begin(), reduced.end());
        if (eigenvectors) {
            eigenvectors->assign(rigid.begin(), rigid.end());
            eigenvectors->resize(static_cast<std::size_t>(n) * n);
            // Reduced eigenvector rows v' map back as v = v' B.
            gemm(false, false, m, n, m, 1.0, inner.data(), m, complement.data(), n, 0.0, eigenvectors->data() + r * n, n);
        }
    }
    // S is positive semi-definite: negative eigenvalues are rounding (|x| ~ 1e-16 of the largest).
    for (double& x : eigenvalues) x = std::max(x, 0.0);
    if ((flags & sensitivity_scale_max) && !eigenvalues.empty() && eigenvalues.back() > 0.0) {
        const double largest = eigenvalues.back();
        for (double& x : eigenvalues) x /= largest;
    }
    return n_rigid;
}

double condition_number(const std::vector<double>& eigenvalues, int64_t n_rigid) {
    if (n_rigid >= static_cast<int64_t>(eigenvalues.size())) return INFINITY;
    const double smallest = eigenvalues[n_rigid], largest = eigenvalues.back();
    return smallest > 0.0 ? std::sqrt(largest / smallest) : INFINITY;
}

BlindSpot blind_spot(const Descriptor& descriptor, const SystemView& system, int64_t center, double threshold) {
    if (!(threshold >= 0.0) || !(threshold < 1.0)) fail(Status::invalid_argument, "the blind-spot threshold must be in [0, 1), got ", threshold);
    const EnvironmentJacobian jacobian = environment_jacobian(descriptor, system, center);
    std::vector<double> eigenvalues;
    const int64_t n_rigid = sensitivity_spectrum(jacobian, sensitivity_remove_rigid | sensitivity_scale_max, eigenvalues, nullptr);
    BlindSpot out;
    if (n_rigid >= static_cast<int64_t>(eigenvalues.size()) || !(eigenvalues.back() > 0.0)) {
        // A centre alone, or a fingerprint no motion changes: every non-rigid motion is blind.
        out.below = static_cast<int64_t>(eigenvalues.size()) - n_rigid;
        return out;
    }
    out.index = eigenvalues[n_rigid];
    for (std::size_t k = static_cast<std::size_t>(n_rigid); k < eigenvalues.size(); ++k) out.below += eigenvalues[k] < threshold;
    return out;
}

}  // namespace atomfp
