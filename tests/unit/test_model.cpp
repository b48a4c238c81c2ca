// Kernel models: forces and virials against finite differences of the predicted energy (periodic
// images in a cell smaller than the cutoff, and ghost atoms), per-centre energies and baselines,
// species checks and concurrent prediction.
#include "core/error.hpp"
#include "descriptors/factory.hpp"
#include "io/frame.hpp"
#include "models/model.hpp"
#include "structures.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <tuple>
#include <random>
#include <thread>

using namespace atomfp;
using namespace atomfp::test;

namespace {

const char* const descriptor_specs[] = {
    R"({"type": "soap_power_spectrum", "species": [6, 14], "cutoff": 4.5, "max_radial": 4, "max_angular": 3})",
    R"({"type": "acsf", "species": [6, 14], "cutoff": 4.5})",
};
const char* const kernel_specs[] = {R"({"type": "polynomial", "zeta": 2})", R"({"type": "squared_exponential", "gamma": 0.05})",
                                    R"({"type": "linear"})"};

Structure two_species_crystal(uint32_t seed) {
    Structure s = diamond(1, 5.431, 0.15, seed);  // 8 atoms: images of every atom inside the cutoff
    s.species[1] = s.species[6] = 6;
    return s;
}

// References drawn from real environments (rattled crystals), random weights.
Model random_model(const char* descriptor_spec, const char* kernel_spec) {
    auto d = create_descriptor(descriptor_spec);
    const int64_t nf = d->feature_count();
    std::vector<SpeciesWeights> blocks;
    std::mt19937 generator(3);
    std::normal_distribution<double> normal(0.0, 1.0);
    for (int32_t z : {14, 6}) {
        SpeciesWeights b;
        b.species = z;
        b.baseline = z == 14 ? -158.5 : -148.0;
        for (uint32_t seed = 10; seed < 13; ++seed) {
            const Structure s = two_species_crystal(seed);
            const auto f = features_of(*d, neighbour_list(s, d->cutoff()).view());
            for (int64_t a = 0; a < s.size(); ++a) {
                if (s.species[a] != z) continue;
                b.references.insert(b.references.end(), f.begin() + a * nf, f.begin() + (a + 1) * nf);
                b.weights.push_back(normal(generator));
            }
        }
        blocks.push_back(std::move(b));
    }
    return Model(parse_json(descriptor_spec), Kernel::from_json(parse_json(kernel_spec)), std::move(blocks));
}

double energy_of(const Model& model, const SystemView& system) {
    double e = 0.0;
    model.predict(system, &e, nullptr, nullptr, nullptr);
    return e;
}

// dU/d e_ab at e = 0 by central differences, U of the list after x -> (I + e E_ab) x of positions
// and lattice vectors (the list's shifts stay valid): minus the virial's [b][a] entry.
double strain_derivative(const NeighbourList& list, int a, int b, const std::function<double(const SystemView&)>& value) {
    auto strained = [&](double e) {
        NeighbourList moved = list;
        for (std::size_t p = 0; p < moved.positions.size(); p += 3) moved.positions[p + a] += e * list.positions[p + b];
        for (int row = 0; row < 3; ++row) moved.cell[3 * row + a] += e * list.cell[3 * row + b];
        return value(moved.view());
    };
    const double h = 1e-6;
    return (strained(h) - strained(-h)) / (2 * h);
}

// `derivative` [3 n_atoms] against central differences of `value` with respect to every coordinate
// of `view`, to 1e-6 of its largest entry (which must not be 0).
void expect_position_derivatives(SystemView view, const std::vector<double>& derivative,
                                 const std::function<double(const SystemView&)>& value, const char* what) {
    std::vector<double> positions(view.positions, view.positions + 3 * view.n_atoms);
    view.positions = positions.data();
    double scale = 0.0;
    for (double d : derivative) scale = std::max(scale, std::abs(d));
    ASSERT_GT(scale, 0.0) << what;
    for (int64_t k = 0; k < 3 * view.n_atoms; ++k) {
        const double h = 1e-5, saved = positions[k];
        positions[k] = saved + h;
        const double plus = value(view);
        positions[k] = saved - h;
        const double minus = value(view);
        positions[k] = saved;
        ASSERT_NEAR(derivative[k], (plus - minus) / (2 * h), 1e-6 * scale) << what << " " << k;
    }
}

}  // namespace

TEST(Model, ForcesAreMinusTheEnergyGradientWithImagesAndGhosts) {
    for (const char* dspec : descriptor_specs)
        for (const char* kspec : kernel_specs) {
            SCOPED_TRACE(std::string(dspec) + " " + kspec);
            const Model model = random_model(dspec, kspec);
            const Structure s = two_species_crystal(5);
            NeighbourList list = neighbour_list(s, model.cutoff());
            const GhostSystem ghosts = with_ghosts(list);
            for (const SystemView& view : {list.view(), ghosts.view()}) {
                std::vector<double> forces(3 * view.n_atoms);
                model.predict(view, nullptr, nullptr, forces.data(), nullptr);
                for (double& f : forces) f = -f;
                expect_position_derivatives(view, forces, [&](const SystemView& v) { return energy_of(model, v); },
                                            view.n_atoms > s.size() ? "ghost system" : "periodic images");
            }
        }
}

TEST(Model, VirialIsMinusTheStrainDerivative) {
    for (const char* dspec : descriptor_specs) {
        const Model model = random_model(dspec, kernel_specs[0]);
        const Structure s = two_species_crystal(7);
        const NeighbourList list = neighbour_list(s, model.cutoff());
        double virial[9], energy = 0.0;
        model.predict(list.view(), &energy, nullptr, nullptr, virial);
        double scale = 0.0;
        for (double w : virial) scale = std::max(scale, std::abs(w));
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) {
                const double derivative = strain_derivative(list, a, b, [&](const SystemView& v) { return energy_of(model, v); });
                EXPECT_NEAR(virial[3 * b + a], -derivative, 1e-6 * scale) << a << "," << b;
            }
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < a; ++b) EXPECT_NEAR(virial[3 * a + b], virial[3 * b + a], 1e-9 * scale);
    }
}

namespace {

// Triangular factors with diagonals in [1, 2] and small random off-diagonals: any such pair is a
// posterior covariance whose variance is a smooth function of the kernel rows, which is all a
// gradient check needs.
std::shared_ptr<const PosteriorCovariance> random_covariance(const Model& model, double scale) {
    std::mt19937 generator(11);
    std::uniform_real_distribution<double> uniform(-0.3, 0.3);
    std::vector<std::vector<double>> priors;
    int64_t total = 0;
    for (const SpeciesWeights& b : model.blocks()) {
        const int64_t m = static_cast<int64_t>(b.weights.size());
        std::vector<double> L(m * m, 0.0);
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j <= i; ++j) L[i * m + j] = i == j ? 1.5 + uniform(generator) : uniform(generator);
        priors.push_back(std::move(L));
        total += m;
    }
    std::vector<double> R(total * total, 0.0);
    for (int64_t i = 0; i < total; ++i)
        for (int64_t j = i; j < total; ++j) R[i * total + j] = i == j ? 1.5 + uniform(generator) : uniform(generator);
    return std::make_shared<const PosteriorCovariance>(std::move(priors), std::move(R), scale);
}

double weighted_variance(const Model& model, const SystemView& system, const std::vector<double>& coefficients) {
    std::vector<double> v(system.n_centers);
    model.predict_variance(system, v.data(), nullptr);
    double u = 0.0;
    for (int64_t c = 0; c < system.n_centers; ++c) u += coefficients[c] * v[c];
    return u;
}

}  // namespace

// U = Σ_c a_c Var e_c: its gradient is the central difference of predict_variance for every
// descriptor and kernel (the linear kernel's prior term |x|² included), with images and ghosts, and
// its virial minus the strain derivative.
TEST(Model, VarianceGradientAndVirialAreTheDerivativesOfTheWeightedVariance) {
    for (const char* dspec : descriptor_specs)
        for (const char* kspec : kernel_specs) {
            SCOPED_TRACE(std::string(dspec) + " " + kspec);
            Model bare = random_model(dspec, kspec);
            const auto covariance = random_covariance(bare, 0.7);
            const Model model = std::move(bare).with_covariance(covariance);
            const Structure s = two_species_crystal(5);
            const NeighbourList list = neighbour_list(s, model.cutoff());
            const GhostSystem ghosts = with_ghosts(list);
            std::vector<double> coefficients(s.size());
            for (int64_t c = 0; c < s.size(); ++c) coefficients[c] = 0.2 + 0.1 * static_cast<double>(c % 5);
            auto variance = [&](const SystemView& v) { return weighted_variance(model, v, coefficients); };
            for (const SystemView& view : {list.view(), ghosts.view()}) {
                std::vector<double> gradient(3 * view.n_atoms);
                model.variance_gradient(view, coefficients.data(), gradient.data(), nullptr);
                expect_position_derivatives(view, gradient, variance, view.n_atoms > s.size() ? "ghost system" : "periodic images");
            }
            double virial[9];
            model.variance_gradient(list.view(), coefficients.data(), nullptr, virial);
            double scale = 0.0;
            for (double w : virial) scale = std::max(scale, std::abs(w));
            ASSERT_GT(scale, 0.0);
            for (int a = 0; a < 3; ++a)
                for (int b = 0; b < 3; ++b) {
                    EXPECT_NEAR(virial[3 * b + a], -strain_derivative(list, a, b, variance), 1e-6 * scale) << a << "," << b;
                }
        }
}

// The structure variance of a cell with more centres than one row block of the prior sum equals
// the quadratic form assembled here from the full n x n prior covariance of each species.
TEST(Model, StructureVarianceOfALargeCellIsTheFullQuadraticForm) {
    Model bare = random_model(descriptor_specs[1], kernel_specs[0]);
    const auto covariance = random_covariance(bare, 1.3);
    const Model model = std::move(bare).with_covariance(covariance);
    Structure s = diamond(4, 5.431, 0.15, 9);  // 512 atoms
    for (std::size_t a = 0; a < s.species.size(); a += 3) s.species[a] = 6;
    const NeighbourList list = neighbour_list(s, model.cutoff());
    double total = 0.0;
    model.predict_variance(list.view(), nullptr, &total);

    const std::vector<double> features = features_of(model.descriptor(), list.view());
    const int64_t nf = model.descriptor().feature_count();
    std::vector<std::vector<double>> kernel_sums;
    std::vector<double> prior_sums;
    for (const SpeciesWeights& block : model.blocks()) {
        std::vector<double> X;
        for (int64_t a = 0; a < s.size(); ++a)
            if (s.species[a] == block.species) X.insert(X.end(), features.begin() + a * nf, features.begin() + (a + 1) * nf);
        const int64_t n = static_cast<int64_t>(X.size()) / nf, m = static_cast<int64_t>(block.weights.size());
        ASSERT_TRUE(block.species != 14 || n > 256);
        std::vector<double> references = block.references, prepared = X, K(n * m), prior(n * n);
        model.kernel().prepare_references(m, nf, references.data());
        model.kernel().prepare_references(n, nf, prepared.data());
        model.kernel().matrix(n, X.data(), m, references.data(), nf, K.data());
        model.kernel().matrix(n, X.data(), n, prepared.data(), nf, prior.data());
        std::vector<double> sums(m, 0.0);
        for (int64_t r = 0; r < n; ++r)
            for (int64_t j = 0; j < m; ++j) sums[j] += K[r * m + j];
        kernel_sums.push_back(sums);
        double prior_sum = 0.0;
        for (double k : prior) prior_sum += k;
        prior_sums.push_back(prior_sum);
    }
    const double expected = covariance->structure_variance(kernel_sums, prior_sums);
    EXPECT_NEAR(total, expected, 1e-10 * std::abs(expected));
}

TEST(Model, VarianceGradientChecksItsInput) {
    Model bare = random_model(descriptor_specs[1], kernel_specs[0]);
    const Structure s = two_species_crystal(5);
    const NeighbourList list = neighbour_list(s, bare.cutoff());
    std::vector<double> coefficients(s.size(), 1.0), gradient(3 * s.size(), -7.0);
    try {
        bare.variance_gradient(list.view(), coefficients.data(), gradient.data(), nullptr);
        ADD_FAILURE() << "no covariance, yet a variance gradient";
    } catch (const Error& e) {
        EXPECT_EQ(e.status(), Status::not_available);
    }
    const Model model = std::move(bare).with_covariance(random_covariance(bare, 1.0));
    coefficients[3] = std::nan("");
    EXPECT_THROW(model.variance_gradient(list.view(), coefficients.data(), gradient.data(), nullptr), Error);
    EXPECT_THROW(model.variance_gradient(list.view(), nullptr, gradient.data(), nullptr), Error);
    for (double g : gradient) EXPECT_EQ(g, -7.0);  // nothing written on failure
}

TEST(Model, CentreEnergiesSumToTheEnergyAndStartFromTheBaselines) {
    const Model model = random_model(descriptor_specs[0], kernel_specs[0]);
    const Structure s = two_species_crystal(2);
    const NeighbourList list = neighbour_list(s, model.cutoff());
    std::vector<double> local(s.size());
    double energy = 0.0;
    model.predict(list.view(), &energy, local.data(), nullptr, nullptr);
    double sum = 0.0;
    for (double e : local) sum += e;
    EXPECT_NEAR(energy, sum, 1e-9);
    // Zero weights: every centre has its species' isolated-atom energy.
    std::vector<SpeciesWeights> blocks = model.blocks();
    for (auto& b : blocks) std::fill(b.weights.begin(), b.weights.end(), 0.0);
    const Model baseline(model.descriptor().parameters(), model.kernel(), blocks);
    baseline.predict(list.view(), &energy, local.data(), nullptr, nullptr);
    for (int64_t a = 0; a < s.size(); ++a) EXPECT_EQ(local[a], s.species[a] == 14 ? -158.5 : -148.0);
    EXPECT_EQ(baseline.species(), (std::vector<int32_t>{14, 6}));
}

// Centre energies against the definition e_c = baseline + sum_m w_m k(F_c, S_m), with the kernels
// written out here, through predict() and through center_energies_from_features().
TEST(Model, CentreEnergiesFollowTheDefinitionForEveryKernel) {
    for (const char* kernel_spec : kernel_specs) {
        SCOPED_TRACE(kernel_spec);
        const Model model = random_model(descriptor_specs[1], kernel_spec);
        const Structure s = two_species_crystal(4);
        const NeighbourList list = neighbour_list(s, model.cutoff());
        const auto features = features_of(model.descriptor(), list.view());
        const int64_t nf = model.descriptor().feature_count();
        std::vector<double> predicted(s.size()), from_features(s.size());
        model.predict(list.view(), nullptr, predicted.data(), nullptr, nullptr);
        model.center_energies_from_features(list.view(), features.data(), from_features.data());
        const json kernel = parse_json(kernel_spec);
        for (int64_t c = 0; c < s.size(); ++c) {
            const SpeciesWeights& b = model.blocks()[s.species[c] == 14 ? 0 : 1];
            const double* x = features.data() + c * nf;
            double expected = b.baseline;
            for (std::size_t m = 0; m < b.weights.size(); ++m) {
                const double* r = b.references.data() + m * nf;
                double xs = 0.0, xx = 0.0, ss = 0.0;
                for (int64_t k = 0; k < nf; ++k) {
                    xs += x[k] * r[k];
                    xx += x[k] * x[k];
                    ss += r[k] * r[k];
                }
                double k_value = xs;
                if (kernel["type"] == "polynomial") k_value = std::pow(xs / std::sqrt(xx * ss), kernel["zeta"].get<double>());
                if (kernel["type"] == "squared_exponential") k_value = std::exp(-kernel["gamma"].get<double>() * (xx + ss - 2.0 * xs));
                expected += b.weights[m] * k_value;
            }
            EXPECT_NEAR(predicted[c], expected, 1e-9 * (1.0 + std::abs(expected))) << c;
            EXPECT_EQ(from_features[c], predicted[c]) << c;
        }
    }
}

TEST(Model, RejectsUnknownSpeciesAndInconsistentBlocks) {
    const Model model = random_model(descriptor_specs[1], kernel_specs[0]);
    std::vector<SpeciesWeights> only_silicon = {model.blocks()[0]};
    const Model silicon(model.descriptor().parameters(), model.kernel(), only_silicon);
    const Structure s = two_species_crystal(2);
    const NeighbourList list = neighbour_list(s, model.cutoff());
    double energy = 42.0;
    std::vector<double> forces(3 * s.size(), 42.0);
    try {
        silicon.predict(list.view(), &energy, nullptr, forces.data(), nullptr);
        FAIL() << "no error for carbon centres";
    } catch (const Error& e) {
        EXPECT_EQ(e.status(), Status::species);
        EXPECT_NE(std::string(e.what()).find("(C)"), std::string::npos) << e.what();
    }
    EXPECT_EQ(energy, 42.0);
    EXPECT_EQ(forces[0], 42.0);

    std::vector<SpeciesWeights> twice = {model.blocks()[0], model.blocks()[0]};
    EXPECT_THROW(Model(model.descriptor().parameters(), model.kernel(), twice), Error);
    std::vector<SpeciesWeights> short_block = {model.blocks()[0]};
    short_block[0].references.pop_back();
    EXPECT_THROW(Model(model.descriptor().parameters(), model.kernel(), short_block), Error);
    std::vector<SpeciesWeights> nan_weight = {model.blocks()[0]};
    nan_weight[0].weights[0] = NAN;
    EXPECT_THROW(Model(model.descriptor().parameters(), model.kernel(), nan_weight), Error);
    std::vector<SpeciesWeights> oxygen = {model.blocks()[0]};
    oxygen[0].species = 8;
    EXPECT_THROW(Model(model.descriptor().parameters(), model.kernel(), oxygen), Error);
}

TEST(Model, ConcurrentPredictionsOnOneModelAgree) {
    const Model model = random_model(descriptor_specs[0], kernel_specs[0]);
    const Structure s = two_species_crystal(4);
    const NeighbourList list = neighbour_list(s, model.cutoff());
    std::vector<double> reference(3 * s.size());
    double e0 = 0.0;
    model.predict(list.view(), &e0, nullptr, reference.data(), nullptr);
    std::vector<std::vector<double>> forces(4, std::vector<double>(3 * s.size()));
    std::vector<double> energies(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] { model.predict(list.view(), &energies[t], nullptr, forces[t].data(), nullptr); });
    for (auto& t : threads) t.join();
    for (int t = 0; t < 4; ++t) {
        EXPECT_EQ(energies[t], e0);
        EXPECT_EQ(forces[t], reference);
    }
}

// A slab periodic in x and y: open along z ("T T F", as LAMMPS' boundary p p f writes it) and
// periodic along z with a vacuum wider than the cutoff are the same physics; a narrower vacuum
// lets the slab see its images, and the energies must then differ.
TEST(Model, SlabWithOpenZEqualsAPeriodicCellWithVacuumBeyondTheCutoff) {
    for (const char* dspec : descriptor_specs) {
        SCOPED_TRACE(dspec);
        const Model model = random_model(dspec, kernel_specs[0]);
        const Structure crystal = two_species_crystal(21);
        const double a = crystal.cell[0];
        auto slab = [&](double vacuum, std::array<bool, 3> pbc, double shift_z) {
            Frame f;
            f.species = crystal.species;
            f.positions = crystal.positions;
            for (int64_t i = 0; i < f.size(); ++i) f.positions[3 * i + 2] += shift_z;
            f.cell = Mat3{a, 0, 0, 0, a, 0, 0, 0, a + vacuum};
            f.pbc = pbc;
            return f;
        };
        struct Result {
            double energy = 0.0;
            std::vector<double> forces;
            double virial[9];
        };
        auto predict = [&](const Frame& f) {
            const NeighbourList list = neighbours_of(f, model.cutoff());
            Result r;
            r.forces.resize(3 * f.size());
            model.predict(list.view(), &r.energy, nullptr, r.forces.data(), r.virial);
            return r;
        };
        const double cutoff = model.cutoff();
        // The rattled atoms reach ~0.5 Å beyond the cell face: vacuum 1.5 cutoffs clears it.
        const Result open = predict(slab(1.5 * cutoff, {true, true, false}, 0.0));
        const Result periodic = predict(slab(1.5 * cutoff, {true, true, true}, 0.0));
        // Along an open direction nothing is wrapped: a rigid shift far outside the cell changes nothing.
        const Result shifted = predict(slab(1.5 * cutoff, {true, true, false}, 37.0));
        EXPECT_NEAR(open.energy, periodic.energy, 1e-10 * std::abs(open.energy));
        EXPECT_NEAR(open.energy, shifted.energy, 1e-10 * std::abs(open.energy));
        for (std::size_t k = 0; k < open.forces.size(); ++k) {
            EXPECT_NEAR(open.forces[k], periodic.forces[k], 1e-10) << k;
            EXPECT_NEAR(open.forces[k], shifted.forces[k], 1e-10) << k;
        }
        for (int k = 0; k < 9; ++k) EXPECT_NEAR(open.virial[k], periodic.virial[k], 1e-9) << k;
        const Result narrow = predict(slab(0.3 * cutoff, {true, true, true}, 0.0));
        const Result narrow_open = predict(slab(0.3 * cutoff, {true, true, false}, 0.0));
        EXPECT_NEAR(narrow_open.energy, open.energy, 1e-10 * std::abs(open.energy));
        EXPECT_GT(std::abs(narrow.energy - open.energy), 1e-3) << "images across a narrow vacuum must interact";
    }
}

// The ZBL universal potential (Ziegler, Biersack & Littmark 1985) written out here from its
// definition, with the screening length 0.8854 a_0 / (Z_i^0.23 + Z_j^0.23) rounded to 0.46850 Å
// as LAMMPS' pair_style zbl rounds it.
double zbl_by_definition(int zi, int zj, double r) {
    const double a = 0.46850 / (std::pow(zi, 0.23) + std::pow(zj, 0.23)), x = r / a;
    const double phi = 0.18175 * std::exp(-3.1998 * x) + 0.50986 * std::exp(-0.94229 * x) + 0.28022 * std::exp(-0.4029 * x) +
                       0.02817 * std::exp(-0.20162 * x);
    return 14.399645 * zi * zj / r * phi;
}

TEST(CoreRepulsion, IsZblInsideAndSwitchesOffSmoothly) {
    const CoreRepulsion repulsion(parse_json(R"({"type": "zbl", "inner": 1.0, "outer": 1.5, "pairs": {"C-Si": {"inner": 1.2, "outer": 1.8}}})"),
                                  4.5);
    EXPECT_EQ(repulsion.max_outer(), 1.8);
    for (double r : {0.2, 0.6, 1.0}) {
        double e, de;
        repulsion.pair(14, 14, r, e, de);
        EXPECT_NEAR(e, zbl_by_definition(14, 14, r), 1e-13 * e) << r;
        double plus, minus, unused;
        repulsion.pair(14, 14, r + 1e-6, plus, unused);
        repulsion.pair(14, 14, r - 1e-6, minus, unused);
        EXPECT_NEAR(de, (plus - minus) / 2e-6, 1e-6 * std::abs(de)) << r;
    }
    // Continuous value and slope across the switch; nothing at and beyond the outer distance; the
    // pair entry holds for either order of the species.
    for (auto [zi, zj, inner, outer] : {std::tuple{14, 14, 1.0, 1.5}, std::tuple{14, 6, 1.2, 1.8}, std::tuple{6, 14, 1.2, 1.8}}) {
        double below, above, slope_below, slope_above;
        repulsion.pair(zi, zj, inner - 1e-9, below, slope_below);
        repulsion.pair(zi, zj, inner + 1e-9, above, slope_above);
        EXPECT_NEAR(below, above, 1e-6 * below);
        EXPECT_NEAR(slope_below, slope_above, 1e-6 * std::abs(slope_below));
        for (double r = inner; r < outer; r += 0.05) {  // derivative of the switched energy by differences
            double e, de, plus, minus, unused;
            repulsion.pair(zi, zj, r, e, de);
            repulsion.pair(zi, zj, r + 1e-6, plus, unused);
            repulsion.pair(zi, zj, r - 1e-6, minus, unused);
            EXPECT_NEAR(de, (plus - minus) / 2e-6, 1e-5 * std::max(1.0, std::abs(de))) << r;
        }
        double near_outer, slope_near_outer, at_outer, slope_at_outer;
        repulsion.pair(zi, zj, outer - 1e-3, near_outer, slope_near_outer);
        repulsion.pair(zi, zj, outer, at_outer, slope_at_outer);
        EXPECT_EQ(at_outer, 0.0);
        EXPECT_EQ(slope_at_outer, 0.0);
        EXPECT_LT(std::abs(near_outer), 1e-6 * zbl_by_definition(zi, zj, outer));
    }
    for (const char* bad : {R"({"type": "zbl", "inner": 1.5, "outer": 1.0})", R"({"type": "zbl", "inner": 1.0, "outer": 5.0})",
                            R"({"type": "lj", "inner": 1.0, "outer": 1.5})", R"({"type": "zbl", "inner": 1.0})",
                            R"({"type": "zbl", "inner": 1.0, "outer": 1.5, "pairs": {"Si-Xx": {"inner": 1, "outer": 2}}})",
                            R"({"type": "zbl", "inner": 1.0, "outer": 1.5, "pairs": {"Si-C": {"inner": 1, "outer": 2}, "C-Si": {"inner": 1, "outer": 2}}})",
                            R"({"type": "zbl", "inner": 1.0, "outer": 1.5, "colour": 1})", R"([1])"}) {
        EXPECT_THROW(CoreRepulsion(parse_json(bad), 4.5), Error) << bad;
    }
}

// A model with a repulsion: the added energy is the pair sum over periodic images (brute force),
// forces are minus its gradient and the virial minus its strain derivative.
TEST(CoreRepulsion, AddsThePairSumWithForcesAndVirialToAModel) {
    const char* spec = R"({"type": "zbl", "inner": 2.1, "outer": 2.5, "pairs": {"C-C": {"inner": 1.6, "outer": 2.45}}})";
    auto repulsion = std::make_shared<const CoreRepulsion>(parse_json(spec), 4.5);
    const Model plain = random_model(descriptor_specs[0], kernel_specs[0]);
    const Model model = random_model(descriptor_specs[0], kernel_specs[0]).with_repulsion(repulsion);
    EXPECT_THROW(random_model(descriptor_specs[0], kernel_specs[0])
                     .with_repulsion(std::make_shared<const CoreRepulsion>(parse_json(R"({"type": "zbl", "inner": 1, "outer": 6})"), 9.0)),
                 Error);
    Structure s = two_species_crystal(8);
    for (double& x : s.positions) x *= 0.93;  // compressed: nearest neighbours near 2.2 Å
    for (double& x : s.cell) x *= 0.93;
    const NeighbourList list = neighbour_list(s, model.cutoff());
    double with = 0.0, without = 0.0, virial[9];
    std::vector<double> forces(3 * s.size());
    model.predict(list.view(), &with, nullptr, forces.data(), virial);
    plain.predict(list.view(), &without, nullptr, nullptr, nullptr);
    double pair_sum = 0.0;
    for (int64_t i = 0; i < s.size(); ++i)
        for (const BruteNeighbour& n : brute_neighbours(s, i, 2.5)) {
            double e, de;
            repulsion->pair(s.species[i], n.z, n.r, e, de);
            pair_sum += 0.5 * e;
        }
    EXPECT_GT(pair_sum, 1e-3);
    EXPECT_NEAR(with - without, pair_sum, 1e-10 * pair_sum);
    {  // coincident atoms are an error, as in the descriptors, not an infinite energy
        NeighbourList coincident = list;
        for (int k = 0; k < 3; ++k) coincident.positions[3 * 1 + k] = coincident.positions[k];
        std::vector<double> local(coincident.view().n_centers, 0.0);
        EXPECT_THROW(repulsion->add(coincident.view(), local.data(), nullptr), Error);
    }
    std::vector<double> centres(s.size());
    model.predict(list.view(), nullptr, centres.data(), nullptr, nullptr);
    double centre_sum = 0.0;
    for (double e : centres) centre_sum += e;
    EXPECT_NEAR(centre_sum, with, 1e-10 * std::abs(with));
    for (int64_t atom : {0, 1, 6}) {
        for (int k = 0; k < 3; ++k) {
            auto moved_energy = [&](double h) {
                NeighbourList moved = list;
                moved.positions[3 * atom + k] += h;
                return energy_of(model, moved.view());
            };
            const double h = 1e-5, derivative = (moved_energy(h) - moved_energy(-h)) / (2 * h);
            EXPECT_NEAR(forces[3 * atom + k], -derivative, 1e-6 * std::max(1.0, std::abs(derivative))) << atom << "," << k;
        }
    }
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) {
            const double derivative = strain_derivative(list, a, b, [&](const SystemView& v) { return energy_of(model, v); });
            EXPECT_NEAR(virial[3 * b + a], -derivative, 1e-6 * std::max(1.0, std::abs(derivative))) << a << "," << b;
        }
}
