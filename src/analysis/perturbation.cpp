#include "analysis/perturbation.hpp"

#include "analysis/sensitivity.hpp"
#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace atomfp {

namespace {

double norm3(const double* v) { return std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]); }

// The features of every centre of `system` (concatenated) at other positions of its atoms.
std::vector<double> features_at(const Descriptor& d, const SystemView& system, const std::vector<double>& positions) {
    SystemView view = system;
    view.positions = positions.data();
    std::vector<double> f(d.feature_count() * system.n_centers);
    compute(d, view, f.data(), nullptr);
    return f;
}

double distance(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0.0;
    for (std::size_t k = 0; k < a.size(); ++k) s += (a[k] - b[k]) * (a[k] - b[k]);
    return std::sqrt(s);
}

}  // namespace

std::vector<double> perturbed_positions(const std::vector<double>& positions, const Perturbation& p, double t) {
    std::vector<double> out = positions;
    const std::size_t n_atoms = positions.size() / 3;
    if (p.kind == PerturbationKind::pattern) {
        if (p.pattern.size() != positions.size()) fail(Status::invalid_argument, "a displacement pattern needs one row per atom");
        for (std::size_t k = 0; k < out.size(); ++k) out[k] += t * p.pattern[k];
        return out;
    }
    if (p.atom < 0 || static_cast<std::size_t>(p.atom) >= n_atoms) fail(Status::invalid_argument, "perturbed atom ", p.atom, " is out of range");
    double* x = out.data() + 3 * p.atom;
    const double r = norm3(p.bond);
    if (p.kind != PerturbationKind::translation && !(r > 0.0)) fail(Status::invalid_argument, "the perturbed atom sits on the centre");
    switch (p.kind) {
        case PerturbationKind::radial:
            for (int k = 0; k < 3; ++k) x[k] += t * p.bond[k] / r;
            break;
        case PerturbationKind::translation: {
            const double d = norm3(p.direction);
            if (!(d > 0.0)) fail(Status::invalid_argument, "the translation direction is zero");
            for (int k = 0; k < 3; ++k) x[k] += t * p.direction[k] / d;
            break;
        }
        case PerturbationKind::tangential: {
            // The unit tangent e = direction minus its bond component; the atom turns about the
            // centre in the plane (bond, e) by the angle t / r, so |r_ij| is kept exactly.
            double e[3], along = 0.0;
            for (int k = 0; k < 3; ++k) along += p.direction[k] * p.bond[k] / (r * r);
            for (int k = 0; k < 3; ++k) e[k] = p.direction[k] - along * p.bond[k];
            const double length = norm3(e);
            if (!(length > 1e-12 * std::max(norm3(p.direction), 1e-300))) {
                fail(Status::invalid_argument, "the tangential direction is parallel to the bond");
            }
            const double angle = t / r;
            for (int k = 0; k < 3; ++k) {
                x[k] += p.bond[k] * (std::cos(angle) - 1.0) + r * std::sin(angle) * e[k] / length;
            }
            break;
        }
        case PerturbationKind::pattern: break;
    }
    return out;
}

void bond_to_neighbour(const SystemView& system, int64_t center, int64_t atom, double* bond) {
    validate_system(system);
    if (center < 0 || center >= system.n_centers) fail(Status::invalid_argument, "center ", center, " is out of range");
    const int64_t i = system.centers[center];
    double best = std::numeric_limits<double>::infinity();
    for (int64_t q = system.offsets[center]; q < system.offsets[center + 1]; ++q) {
        if (system.neighbours[q] != atom) continue;
        double d[3];
        pair_vector(system, center, q, d);
        if (norm3(d) < best) {
            best = norm3(d);
            for (int k = 0; k < 3; ++k) bond[k] = d[k];
        }
    }
    if (!std::isfinite(best)) fail(Status::invalid_argument, "atom ", atom, " is not a neighbour of atom ", i);
}

double noise_floor(const std::vector<double>& change) {
    std::vector<double> positive;
    for (double c : change)
        if (c > 0.0) positive.push_back(c);
    if (positive.empty()) return 0.0;
    // The median of the five smallest: one point can cancel by chance far below the noise.
    const std::size_t lowest = std::min<std::size_t>(5, positive.size());
    std::partial_sort(positive.begin(), positive.begin() + lowest, positive.end());
    return 100.0 * positive[(lowest - 1) / 2];
}

double loglog_slope(const std::vector<double>& t, const std::vector<double>& change, double t_max, double floor) {
    double sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0;
    int count = 0;
    for (std::size_t k = 0; k < t.size(); ++k) {
        if (!(t[k] > 0.0) || t[k] > t_max || !(change[k] > floor)) continue;
        const double x = std::log10(t[k]), y = std::log10(change[k]);
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
        ++count;
    }
    if (count < 2) return std::numeric_limits<double>::quiet_NaN();
    return (count * sxy - sx * sy) / (count * sxx - sx * sx);
}

std::vector<double> log_amplitudes(double t_min, double t_max, int per_decade) {
    if (!(t_min > 0.0) || !(t_max > t_min) || per_decade < 1) {
        fail(Status::invalid_argument, "amplitudes need 0 < t_min < t_max and at least one point per decade");
    }
    const double decades = std::log10(t_max / t_min);
    const int intervals = std::max(1, static_cast<int>(std::ceil(decades * per_decade - 1e-9)));
    std::vector<double> out;
    for (int k = 0; k <= intervals; ++k) out.push_back(t_min * std::pow(10.0, decades * k / intervals));
    return out;
}

PerturbationCurve perturbation_curve(const Descriptor& d, const SystemView& system, const Perturbation& perturbation,
                                     const std::vector<double>& amplitudes, double fit_max, double difference_step) {
    const std::vector<double> reference(system.positions, system.positions + 3 * system.n_atoms);
    const std::vector<double> f0 = features_at(d, system, reference);
    const double h = difference_step;
    const auto plus = features_at(d, system, perturbed_positions(reference, perturbation, h));
    const auto minus = features_at(d, system, perturbed_positions(reference, perturbation, -h));
    std::vector<double> tangent(f0.size()), curvature(f0.size());
    for (std::size_t q = 0; q < f0.size(); ++q) {
        tangent[q] = plus[q] - minus[q];
        curvature[q] = plus[q] + minus[q] - 2.0 * f0[q];
    }
    const std::vector<double> origin(f0.size(), 0.0);
    const double tangent_norm = distance(tangent, origin), curvature_norm = distance(curvature, origin);
    std::vector<double> axis = tangent_norm > 1e-3 * curvature_norm ? tangent : curvature;
    const double axis_norm = std::max(distance(axis, origin), 1e-300);
    for (double& x : axis) x /= axis_norm;

    PerturbationCurve curve;
    std::vector<double> positive;
    for (double t : amplitudes) {
        const auto f = features_at(d, system, perturbed_positions(reference, perturbation, t));
        curve.change.push_back(distance(f, f0));
        double p = 0.0;
        for (std::size_t q = 0; q < f.size(); ++q) p += axis[q] * (f[q] - f0[q]);
        curve.projected.push_back(p);
        if (t > 0.0) positive.push_back(curve.change.back());
    }
    curve.noise_floor = noise_floor(positive);
    curve.slope = loglog_slope(amplitudes, curve.change, fit_max, curve.noise_floor);
    return curve;
}

std::vector<double> environment_mode_pattern(const Descriptor& d, const SystemView& system, int64_t center, int64_t mode) {
    const EnvironmentJacobian jacobian = environment_jacobian(d, system, center);
    std::vector<double> eigenvalues, eigenvectors;
    const int64_t n_rigid = sensitivity_spectrum(jacobian, sensitivity_remove_rigid, eigenvalues, &eigenvectors);
    const int64_t n = 3 * jacobian.n_atoms;
    if (mode < 0 || n_rigid + mode >= n) {
        fail(Status::invalid_argument, "mode ", mode, " but the environment has ", n - n_rigid, " non-rigid modes");
    }
    Environment environment;
    environment.build(system, center, d.cutoff());
    std::vector<int64_t> atoms = {system.centers[center]};
    atoms.insert(atoms.end(), environment.atoms.begin(), environment.atoms.end());
    std::vector<double> pattern(3 * system.n_atoms, 0.0);
    std::vector<char> seen(system.n_atoms, 0);
    double largest = 0.0;
    for (std::size_t a = 0; a < atoms.size(); ++a) {
        if (seen[atoms[a]]++) {
            fail(Status::invalid_argument, "atom ", atoms[a], " appears more than once in the environment (periodic images): ",
                 "mode perturbations need a cell wider than twice the cutoff or an open cluster");
        }
        const double* v = eigenvectors.data() + (n_rigid + mode) * n + 3 * a;
        for (int k = 0; k < 3; ++k) pattern[3 * atoms[a] + k] = v[k];
        largest = std::max(largest, norm3(v));
    }
    for (double& x : pattern) x /= largest;
    return pattern;
}

}  // namespace atomfp
