// Perturbation paths and log-log slopes: path geometry, the slope estimator on synthetic curves, the
// sensitivity slopes of every descriptor in diamond Si (Onat, Ortner & Kermode 2020, §VI A), and
// the symmetric distortions of methane (Pozdnyakov et al., eq 17): zero singular values for every
// smooth invariant descriptor, a cusp for the sorted overlap-matrix fingerprint.
#include "analysis/perturbation.hpp"
#include "analysis/sensitivity.hpp"
#include "checks.hpp"
#include "core/error.hpp"
#include "descriptors/factory.hpp"
#include "structures.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

using namespace atomfp;
using namespace atomfp::test;

namespace {

const char* const silicon_specs[] = {
    R"({"type": "acsf", "species": [14], "cutoff": 5.0})",
    R"({"type": "chebyshev", "species": [14], "radial_cutoff": 5.0, "angular_cutoff": 5.0, "radial_order": 8, "angular_order": 5})",
    R"({"type": "chebyshev", "species": [14], "radial_cutoff": 5.0, "angular_cutoff": 5.0, "radial_order": 8, "angular_order": 5,
        "mixing": "full"})",
    R"({"type": "soap_power_spectrum", "species": [14], "cutoff": 5.0, "atomic_gaussian_width": 0.5, "max_radial": 6, "max_angular": 5})",
    R"({"type": "soap_bispectrum", "species": [14], "cutoff": 5.0, "atomic_gaussian_width": 0.5, "max_radial": 3, "max_angular": 3})",
    R"({"type": "omfp", "species": [14], "cutoff": 5.0, "orbitals": "sp", "max_atoms": 40, "projection": "smooth"})",
};

// |F(t) - F(0)| of centre 0 along a path, at amplitudes 1e-8 ... 1e-1.
struct Curve {
    std::vector<double> t, change;
    double slope(double t_max = 1e-3) const { return loglog_slope(t, change, t_max, noise_floor(change)); }
};

Curve curve(const Descriptor& d, const Structure& s, const Perturbation& p) {
    const NeighbourList list = neighbour_list(s, d.cutoff() + 0.2);
    const CentreView centre(list.view(), {0});
    auto features = [&](const std::vector<double>& positions) {
        SystemView view = centre.view();
        view.positions = positions.data();
        return features_of(d, view);
    };
    const std::vector<double> f0 = features(s.positions);
    Curve c;
    c.t = log_amplitudes(1e-8, 0.1, 4);
    for (double t : c.t) {
        const std::vector<double> f = features(perturbed_positions(s.positions, p, t));
        double sum = 0.0;
        for (std::size_t k = 0; k < f.size(); ++k) sum += (f[k] - f0[k]) * (f[k] - f0[k]);
        c.change.push_back(std::sqrt(sum));
    }
    return c;
}

// The first-shell neighbour of atom 0 in a diamond supercell (along +[111]) and its bond.
Perturbation first_shell(const Structure& s, PerturbationKind kind) {
    Perturbation p;
    p.kind = kind;
    const NeighbourList list = neighbour_list(s, 2.6);
    for (int64_t q = list.offsets[0]; q < list.offsets[1]; ++q) {
        double bond[3];
        bond_to_neighbour(list.view(), 0, list.neighbours[q], bond);
        if (bond[0] > 0 && bond[1] > 0 && bond[2] > 0) {
            p.atom = list.neighbours[q];
            std::copy(bond, bond + 3, p.bond);
        }
    }
    return p;
}

Structure perfect_silicon() { return diamond(3, 5.431, 0.0, 1); }

}  // namespace

TEST(Perturbation, PathsMoveAsDefined) {
    const std::vector<double> positions = {0, 0, 0, 1.0, 2.0, 2.0};
    Perturbation p;
    p.atom = 1;
    p.bond[0] = 1.0;
    p.bond[1] = 2.0;
    p.bond[2] = 2.0;
    p.kind = PerturbationKind::radial;
    const auto radial = perturbed_positions(positions, p, 0.3);
    EXPECT_NEAR(std::hypot(radial[3], radial[4], radial[5]), 3.3, 1e-14);
    p.kind = PerturbationKind::tangential;
    p.direction[0] = 0.2;
    p.direction[1] = -1.0;
    p.direction[2] = 0.7;
    for (double t : {1e-6, 0.01, 0.5, -0.5}) {
        const auto moved = perturbed_positions(positions, p, t);
        EXPECT_NEAR(std::hypot(moved[3], moved[4], moved[5]), 3.0, 1e-14);  // on the sphere
        const double chord = std::hypot(moved[3] - 1.0, moved[4] - 2.0, moved[5] - 2.0);
        EXPECT_NEAR(chord, 2 * 3.0 * std::sin(std::abs(t) / 6.0), 1e-14);  // arc length t
    }
    p.direction[0] = 2.0;
    p.direction[1] = 4.0;
    p.direction[2] = 4.0;
    EXPECT_THROW(perturbed_positions(positions, p, 0.1), Error);  // along the bond
    p.kind = PerturbationKind::translation;
    p.direction[0] = p.direction[1] = p.direction[2] = 0.0;
    EXPECT_THROW(perturbed_positions(positions, p, 0.1), Error);
    p.kind = PerturbationKind::pattern;
    p.pattern = {1, 0, 0};
    EXPECT_THROW(perturbed_positions(positions, p, 0.1), Error);
    p.pattern = {1, 0, 0, 0, 0, -1};
    EXPECT_EQ(perturbed_positions(positions, p, 0.5), (std::vector<double>{0.5, 0, 0, 1.0, 2.0, 1.5}));
}

TEST(Perturbation, SlopeEstimatorRecoversExponentsAboveTheNoise) {
    const std::vector<double> t = log_amplitudes(1e-8, 0.1, 4);
    ASSERT_EQ(t.size(), 29u);
    EXPECT_DOUBLE_EQ(t.front(), 1e-8);
    EXPECT_NEAR(t.back(), 0.1, 1e-16);
    for (double k : {1.0, 2.0, 3.0}) {
        std::vector<double> change;
        for (double x : t) change.push_back(0.7 * std::pow(x, k) + 1e-15 * (1.0 + 0.5 * std::sin(1e3 * x)));  // noise floor
        EXPECT_NEAR(loglog_slope(t, change, 1e-3, noise_floor(change)), k, 5e-3) << k;
    }
    EXPECT_TRUE(std::isnan(loglog_slope(t, std::vector<double>(t.size(), 0.0), 1e-3, 0.0)));
    EXPECT_THROW(log_amplitudes(0.1, 1e-8, 4), Error);
}

TEST(Perturbation, DiamondSiliconSlopes) {
    const Structure perfect = perfect_silicon();
    Structure rattled = perfect;
    std::mt19937 generator(3);
    std::normal_distribution<double> noise(0.0, 0.05);
    for (std::size_t k = 3; k < rattled.positions.size(); ++k) rattled.positions[k] += noise(generator);

    Perturbation radial = first_shell(perfect, PerturbationKind::radial);
    Perturbation symmetric = first_shell(perfect, PerturbationKind::tangential);
    symmetric.direction[0] = 1.0;  // [1-10]: the normal of a mirror plane through the bond
    symmetric.direction[1] = -1.0;
    Perturbation generic = first_shell(perfect, PerturbationKind::tangential);
    generic.direction[0] = 0.3;  // a direction of no symmetry
    generic.direction[1] = -0.9;
    generic.direction[2] = 0.2;
    Perturbation broken = first_shell(rattled, PerturbationKind::tangential);
    std::copy(generic.direction, generic.direction + 3, broken.direction);
    ASSERT_NEAR(std::hypot(radial.bond[0], radial.bond[1], radial.bond[2]), 5.431 * std::sqrt(3.0) / 4, 1e-12);

    for (const char* spec : silicon_specs) {
        auto d = create_descriptor(spec);
        SCOPED_TRACE(spec);
        // Radial: linear. Tangential in the perfect crystal: the site symmetry (C3v about the bond)
        // makes every tangential derivative vanish, whatever the direction. A distorted shell
        // breaks the symmetry: linear again.
        EXPECT_NEAR(curve(*d, perfect, radial).slope(), 1.0, 0.02);
        EXPECT_NEAR(curve(*d, perfect, symmetric).slope(), 2.0, 0.02);
        EXPECT_NEAR(curve(*d, perfect, generic).slope(), 2.0, 0.02);
        EXPECT_NEAR(curve(*d, rattled, broken).slope(), 1.0, 0.05);
        // Rotating the crystal (as an open cluster) leaves every centre's features unchanged.
        Structure cluster = perfect;
        cluster.cell.clear();
        const auto before = features_of(*d, CentreView(neighbour_list(cluster, d->cutoff()).view(), {0}).view());
        const auto after = features_of(*d, CentreView(neighbour_list(transformed(cluster, random_rotation(9)), d->cutoff()).view(), {0}).view());
        expect_same_features(after, before);
    }
}

TEST(Perturbation, SymmetricDistortionsOfMethane) {
    // Tetrahedral methane; H1 (1,1,1), H2 (-1,-1,1), H3 (1,-1,-1), H4 (-1,1,-1) in units of a.
    const double a = 1.087 / std::sqrt(3.0), u = 1.0 / std::sqrt(3.0);
    Structure ch4;
    ch4.positions = {0, 0, 0, a, a, a, -a, -a, a, a, -a, -a, -a, a, -a};
    ch4.species = {6, 1, 1, 1, 1};
    // Two bonds stretch while two contract: S4 about z maps it to minus itself (eq 17).
    Perturbation stretch;
    stretch.kind = PerturbationKind::pattern;
    stretch.pattern = {0, 0, 0, u, u, u, -u, -u, u, -u, u, u, u, -u, u};
    const char* smooth_specs[] = {
        R"({"type": "soap_power_spectrum", "species": [1, 6], "cutoff": 4.8, "atomic_gaussian_width": 0.3, "max_radial": 8, "max_angular": 8})",
        R"({"type": "acsf", "species": [1, 6], "cutoff": 4.8})",
        R"({"type": "chebyshev", "species": [1, 6], "radial_cutoff": 4.8, "angular_cutoff": 4.8, "radial_order": 8, "angular_order": 5})",
        R"({"type": "omfp", "species": [1, 6], "cutoff": 4.8, "orbitals": "sp", "max_atoms": 8, "projection": "smooth"})",
    };
    for (const char* spec : smooth_specs) {
        SCOPED_TRACE(spec);
        auto d = create_descriptor(spec);
        // The gradient of an invariant function at a T_d point is T_d-invariant: of the 9
        // internal modes only the breathing mode (A1) has a non-zero singular value.
        std::vector<double> eigenvalues;
        const int64_t n_rigid = sensitivity_spectrum(environment_jacobian(*d, neighbour_list(ch4, d->cutoff()).view(), 0),
                                                     sensitivity_remove_rigid | sensitivity_scale_max, eigenvalues, nullptr);
        ASSERT_EQ(n_rigid, 6);
        for (int k = 6; k < 14; ++k) EXPECT_LT(eigenvalues[k], 1e-12) << k;
        EXPECT_EQ(eigenvalues[14], 1.0);
        EXPECT_NEAR(curve(*d, ch4, stretch).slope(), 2.0, 0.02);  // smooth and even: quadratic
    }
    // Sorting the degenerate overlap-matrix eigenvalues turns the even response into |t|: a cusp.
    auto sorted = create_descriptor(R"({"type": "omfp", "species": [1, 6], "cutoff": 4.8, "orbitals": "sp", "max_atoms": 8})");
    EXPECT_NEAR(curve(*sorted, ch4, stretch).slope(), 1.0, 0.02);
}

// The curve engine against the test's own brute-force curve, and its projection: a radial move of a
// first-shell neighbour is answered linearly (slope 1), so the projection on the path's direction
// is odd in t and equals the change to first order; a translation of the whole crystal is not
// seen at all.
TEST(PerturbationCurve, EqualsTheBruteForceCurveAndProjectsLinearPaths) {
    const Structure s = perfect_silicon();
    const auto d = create_descriptor(silicon_specs[0]);
    const Perturbation radial = first_shell(s, PerturbationKind::radial);
    const Curve reference = curve(*d, s, radial);

    const NeighbourList list = neighbour_list(s, d->cutoff() + 0.2);
    const CentreView centre(list.view(), {0});
    const PerturbationCurve engine = perturbation_curve(*d, centre.view(), radial, reference.t, 1e-3, 1e-4);
    ASSERT_EQ(engine.change.size(), reference.t.size());
    for (std::size_t k = 0; k < reference.t.size(); ++k) EXPECT_EQ(engine.change[k], reference.change[k]) << "t = " << reference.t[k];
    EXPECT_NEAR(engine.slope, 1.0, 0.02);
    EXPECT_NEAR(engine.slope, reference.slope(), 1e-12);

    std::vector<double> symmetric;
    for (double t : {-1e-3, -1e-4, 1e-4, 1e-3}) symmetric.push_back(t);
    const PerturbationCurve both = perturbation_curve(*d, centre.view(), radial, symmetric, 1e-3, 1e-4);
    EXPECT_NEAR(both.projected[0], -both.projected[3], 2e-3 * both.change[3]);
    EXPECT_NEAR(both.projected[1], -both.projected[2], 2e-3 * both.change[2]);
    for (std::size_t k = 0; k < symmetric.size(); ++k) EXPECT_NEAR(std::abs(both.projected[k]), both.change[k], 1e-2 * both.change[k]);

    Perturbation shift;
    shift.kind = PerturbationKind::pattern;
    shift.pattern.assign(s.positions.size(), 0.0);
    for (std::size_t a = 0; a < shift.pattern.size(); a += 3) shift.pattern[a] = 1.0;
    const PerturbationCurve rigid = perturbation_curve(*d, list.view(), shift, {1e-3, 1e-2}, 1e-3, 1e-4);
    for (double c : rigid.change) EXPECT_LT(c, 1e-12);
}

// A mode pattern is the sensitivity eigenvector laid out over the system's atoms, largest row 1:
// through the Jacobian, |J v|^2 = lambda |v|^2 with lambda the softest non-rigid eigenvalue.
TEST(PerturbationCurve, ModePatternIsTheSensitivityEigenvector) {
    const Structure s = cluster({6, 1, 1, 1, 1}, 3.0, 0.9, 4);
    const auto d = create_descriptor(R"({"type": "acsf", "species": [1, 6], "cutoff": 4.0})");
    const NeighbourList list = neighbour_list(s, d->cutoff());
    const std::vector<double> pattern = environment_mode_pattern(*d, list.view(), 0, 0);
    ASSERT_EQ(pattern.size(), s.positions.size());
    double largest = 0.0;
    for (std::size_t a = 0; a < pattern.size(); a += 3) largest = std::max(largest, std::hypot(pattern[a], pattern[a + 1], pattern[a + 2]));
    EXPECT_NEAR(largest, 1.0, 1e-14);
    const EnvironmentJacobian jacobian = environment_jacobian(*d, list.view(), 0);
    std::vector<double> eigenvalues, eigenvectors;
    const int64_t n_rigid = sensitivity_spectrum(jacobian, sensitivity_remove_rigid, eigenvalues, &eigenvectors);
    // |J v|^2 = lambda |v|^2 for the softest non-rigid eigenvalue; J is [3 n_atoms][n_features] transposed.
    const int64_t nf = jacobian.n_features, n = 3 * jacobian.n_atoms;
    double jv2 = 0.0, v2 = 0.0;
    for (int64_t f = 0; f < nf; ++f) {
        double s_f = 0.0;
        for (int64_t q = 0; q < n; ++q) s_f += jacobian.transposed[q * nf + f] * pattern[q];
        jv2 += s_f * s_f;
    }
    for (double x : pattern) v2 += x * x;
    EXPECT_NEAR(jv2, eigenvalues[n_rigid] * v2, 1e-9 * std::max(1.0, eigenvalues[n_rigid] * v2));
    EXPECT_THROW(environment_mode_pattern(*d, list.view(), 0, n - n_rigid), Error);
}
