// Overlap-matrix fingerprints: analytic special cases, finite differences, invariances, the smooth
// projection through a degeneracy, and the environment-size check.
#include "checks.hpp"
#include "core/error.hpp"
#include "descriptors/factory.hpp"
#include "descriptors/omfp.hpp"
#include "structures.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace atomfp;
using namespace atomfp::test;

namespace {

Structure dimer(double r, int32_t za, int32_t zb) {
    Structure s;
    s.positions = {0, 0, 0, 0.3 * r, -0.4 * r, std::sqrt(0.75) * r};
    s.species = {za, zb};
    return s;
}

std::vector<double> first_centre(const Descriptor& d, const Structure& s) {
    auto f = features_of(d, neighbour_list(s, d.cutoff()).view());
    f.resize(d.feature_count());
    return f;
}

// The two eigenvalues of the s-orbital overlap matrix of a dimer at distance r with orbital widths
// sa (centre) and sb: T = [[1, f S], [f S, f^2]] with f = (1 - r^2/r_c^2)^2 and S = g^{3/2} exp(-mu r^2).
std::pair<double, double> dimer_s_spectrum(double r, double rc, double sa, double sb) {
    const double aa = 0.5 / (sa * sa), ab = 0.5 / (sb * sb);
    const double mu = aa * ab / (aa + ab), g = 2 * sa * sb / (sa * sa + sb * sb);
    const double S = std::pow(g, 1.5) * std::exp(-mu * r * r), amp = std::pow(1 - r * r / (rc * rc), 2);
    const double tr = 1 + amp * amp, det = amp * amp - amp * amp * S * S;
    const double disc = std::sqrt(tr * tr / 4 - det);
    return {tr / 2 + disc, tr / 2 - disc};
}

}  // namespace

TEST(Omfp, SingleNeighbourSOrbitalsHaveTheTwoByTwoSpectrum) {
    auto d = create_descriptor(R"({"type": "omfp", "orbitals": "s", "max_atoms": 3})");
    const auto f = first_centre(*d, dimer(1.4, 6, 1));
    const auto [high, low] = dimer_s_spectrum(1.4, 4.0, 0.77, 0.37);
    EXPECT_NEAR(f[0], high, 1e-14);
    EXPECT_NEAR(f[1], low, 1e-14);
    EXPECT_EQ(f[2], 0.0);
}

TEST(Omfp, IsolatedAtomHasUnitEigenvaluesPerOrbital) {
    Structure s;
    s.positions = {0, 0, 0, 9, 9, 9};
    s.species = {14, 14};
    auto d = create_descriptor(R"({"type": "omfp", "max_atoms": 2})");
    const auto f = first_centre(*d, s);
    EXPECT_EQ(f, std::vector<double>({1, 1, 1, 1, 0, 0, 0, 0}));
}

TEST(Omfp, GradientsMatchFiniteDifferences) {
    // A configuration whose eigenvalues are all at least 3.6e-3 apart: sorted-eigenvalue gradients
    // are exact but their curvature grows like 1/gap, which finite differences must resolve.
    Structure c = cluster({6, 1, 1, 8, 1}, 3.0, 0.9, 13);
    for (const char* spec : {R"({"type": "omfp", "orbitals": "s", "max_atoms": 8, "cutoff": 4.5})",
                             R"({"type": "omfp", "orbitals": "sp", "max_atoms": 8, "cutoff": 4.5})",
                             R"({"type": "omfp", "orbitals": "sp", "max_atoms": 8, "cutoff": 4.5, "cutoff_exponent": 3,
                                 "projection": "smooth", "smooth_scale": 4.0, "smooth_terms": 6})"}) {
        SCOPED_TRACE(spec);
        auto d = create_descriptor(spec);
        check_finite_differences(*d, c.positions, neighbour_list(c, d->cutoff()).view(), all_atoms(c.size()), 1e-6, 1e-5);
    }
    Structure p = primitive_diamond(5.431, 0.15, 3);
    auto d = create_descriptor(R"({"type": "omfp", "orbitals": "s", "max_atoms": 40, "cutoff": 3.8})");
    check_finite_differences(*d, p.positions, neighbour_list(p, d->cutoff()).view(), all_atoms(p.size()), 1e-6, 1e-5);
}

TEST(Omfp, OrbitalWidthsFollowTheirSpecification) {
    // The two-by-two s spectrum of a C-H dimer with the widths given: sigma = 1.5 x 0.77 for C by
    // width_scale, and H set to 0.5 Å before the scale.
    auto d = create_descriptor(R"({"type": "omfp", "orbitals": "s", "max_atoms": 2, "width_scale": 1.5,
                                   "orbital_widths": {"H": 0.5}})");
    const auto f = first_centre(*d, dimer(1.2, 6, 1));
    const auto [high, low] = dimer_s_spectrum(1.2, 4.0, 1.5 * 0.77, 1.5 * 0.5);
    EXPECT_NEAR(f[0], high, 1e-14);
    EXPECT_NEAR(f[1], low, 1e-14);
    // Only length ratios enter: widths, cutoff and positions all scaled by s give the same s+p spectrum.
    Structure c = cluster({6, 1, 1, 8, 1}, 3.0, 0.9, 13);
    auto plain = create_descriptor(R"({"type": "omfp", "max_atoms": 8, "cutoff": 4.5})");
    auto scaled = create_descriptor(R"({"type": "omfp", "max_atoms": 8, "cutoff": 6.75, "width_scale": 1.5})");
    Structure stretched = c;
    for (double& x : stretched.positions) x *= 1.5;
    expect_close_relative(features_of(*plain, neighbour_list(c, 4.5).view()), features_of(*scaled, neighbour_list(stretched, 6.75).view()),
                          1e-12);
    // Per-element widths that equal the scaled covalent radii are the same descriptor as the scale.
    auto listed = create_descriptor(R"({"type": "omfp", "max_atoms": 8, "cutoff": 4.5,
                                        "orbital_widths": {"C": 1.155, "H": 0.555, "O": 1.095}})");
    auto wide = create_descriptor(R"({"type": "omfp", "max_atoms": 8, "cutoff": 4.5, "width_scale": 1.5})");
    expect_close_relative(features_of(*listed, neighbour_list(c, 4.5).view()), features_of(*wide, neighbour_list(c, 4.5).view()), 1e-12);
    EXPECT_NE(features_of(*plain, neighbour_list(c, 4.5).view()), features_of(*wide, neighbour_list(c, 4.5).view()));
    // Recorded in the parameters, and only when set.
    EXPECT_EQ(wide->parameters()["width_scale"], 1.5);
    EXPECT_EQ(listed->parameters()["orbital_widths"]["H"], 0.555);
    EXPECT_FALSE(plain->parameters().contains("width_scale"));
    EXPECT_FALSE(plain->parameters().contains("orbital_widths"));
    EXPECT_EQ(create_descriptor_from_spec(listed->parameters())->parameters(), listed->parameters());
    // Gradients with wider orbitals, sorted and smooth.
    for (const char* spec : {R"({"type": "omfp", "max_atoms": 8, "cutoff": 4.5, "width_scale": 1.5, "orbital_widths": {"O": 0.9}})",
                             R"({"type": "omfp", "max_atoms": 8, "cutoff": 4.5, "width_scale": 1.5, "projection": "smooth",
                                 "smooth_scale": 6.0, "smooth_terms": 6})"}) {
        SCOPED_TRACE(spec);
        auto w = create_descriptor(spec);
        check_finite_differences(*w, c.positions, neighbour_list(c, w->cutoff()).view(), all_atoms(c.size()), 1e-6, 1e-5);
    }
    for (const char* bad : {R"({"type": "omfp", "width_scale": 0})", R"({"type": "omfp", "width_scale": -1})",
                            R"({"type": "omfp", "width_scale": "wide"})", R"({"type": "omfp", "orbital_widths": [0.5]})",
                            R"({"type": "omfp", "orbital_widths": {"Xx": 0.5}})", R"({"type": "omfp", "orbital_widths": {"H": 0}})",
                            R"({"type": "omfp", "orbital_widths": {"H": "0.5"}})", R"({"type": "omfp", "orbital_widths": {"H": 1e300}})"}) {
        EXPECT_THROW(create_descriptor(bad), Error) << bad;
    }
}

TEST(Omfp, InvariantUnderRotationsTranslationsAndPermutations) {
    Structure s = cluster({6, 1, 1, 1, 1}, 2.6, 0.9, 4);
    auto d = create_descriptor(R"({"type": "omfp", "max_atoms": 6, "cutoff": 5.0})");
    const auto reference = features_of(*d, neighbour_list(s, 5.0).view());
    std::array<double, 9> improper = random_rotation(5);
    for (double& v : improper) v = -v;
    expect_same_features(reference, features_of(*d, neighbour_list(transformed(s, random_rotation(8)), 5.0).view()));
    expect_same_features(reference, features_of(*d, neighbour_list(transformed(s, improper), 5.0).view()));
    std::vector<int64_t> order = all_atoms(s.size());
    std::swap(order[1], order[4]);
    expect_permutation_covariant(*d, s, order, reference);
}

TEST(Omfp, SmoothProjectionIsDifferentiableAtADegeneracy) {
    // A symmetric H-C-H: the two p orbitals perpendicular to the axis are degenerate, where sorted
    // eigenvalue gradients are ill-defined; the smooth projection still matches finite differences.
    Structure s;
    s.positions = {0, 0, 0, 0, 0, 1.1, 0, 0, -1.1};
    s.species = {6, 1, 1};
    auto d = create_descriptor(R"({"type": "omfp", "max_atoms": 3, "projection": "smooth", "smooth_scale": 3.0, "smooth_terms": 5})");
    check_finite_differences(*d, s.positions, neighbour_list(s, d->cutoff()).view(), all_atoms(3), 1e-6, 1e-5);
}

TEST(Omfp, SpecificationAndEnvironmentErrors) {
    auto d = create_descriptor(R"({"type": "omfp", "max_atoms": 3})");
    EXPECT_EQ(d->feature_count(), 12);
    EXPECT_EQ(d->feature_label(2), "lambda(2)");
    EXPECT_EQ(create_descriptor_from_spec(d->parameters())->parameters(), d->parameters());
    auto smooth = create_descriptor(R"({"type": "omfp", "projection": "smooth", "smooth_terms": 4})");
    EXPECT_EQ(smooth->feature_count(), 8);
    EXPECT_EQ(smooth->feature_label(3), "sin(q=2)");
    EXPECT_EQ(smooth->parameters()["smooth_scale"], 100.0);
    // Five atoms in the sphere of a max_atoms = 3 descriptor: an error before anything is written.
    Structure s = cluster({6, 1, 1, 1, 1}, 2.0, 0.9, 4);
    std::vector<double> features(5 * 12, 42.0);
    try {
        compute(*d, neighbour_list(s, 4.0).view(), features.data(), nullptr);
        ADD_FAILURE() << "accepted an oversized sphere";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("max_atoms"), std::string::npos);
    }
    for (double x : features) ASSERT_EQ(x, 42.0);
    for (const char* bad : {R"({"type": "omfp", "orbitals": "spd"})", R"({"type": "omfp", "max_atoms": 0})",
                            R"({"type": "omfp", "cutoff": -1})", R"({"type": "omfp", "projection": "smooth", "smooth_terms": 0})",
                            R"({"type": "omfp", "smooth_terms": 4})"}) {
        EXPECT_THROW(create_descriptor(bad), Error) << bad;
    }
}
