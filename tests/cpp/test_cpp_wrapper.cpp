// The C++ wrapper include_c/atomfp.hpp, compiled as C++11 against the public headers and the shared
// library only: handles are freed exactly once (the sanitizer builds check), failures arrive as
// atomfp::Error with the C API's status and message, and a centre subset describes its centres
// exactly as the full system does (an independent route: the rows and blocks of the full call).
#include "atomfp.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace {

const std::string acsf_spec = R"({"type": "acsf", "species": [14], "cutoff": 4.0})";
// Long enough that its canonical parameters exceed the wrapper's first string buffer.
const std::string soap_spec =
    R"({"type": "soap_power_spectrum", "species": [1, 6, 8, 14], "cutoff": 4.0, "max_radial": 4, "max_angular": 3,
        "atomic_gaussian_width": 0.5})";

// A rattled diamond-like Si cluster in a cubic cell.
struct Structure {
    std::vector<double> positions;
    std::vector<int32_t> species;
    double cell[9] = {5.43, 0, 0, 0, 5.43, 0, 0, 0, 5.43};
    Structure() {
        const double base[8][3] = {{0, 0, 0}, {0.5, 0.5, 0}, {0.5, 0, 0.5}, {0, 0.5, 0.5},
                                   {0.25, 0.25, 0.25}, {0.75, 0.75, 0.25}, {0.75, 0.25, 0.75}, {0.25, 0.75, 0.75}};
        for (int a = 0; a < 8; ++a) {
            for (int k = 0; k < 3; ++k) positions.push_back(5.43 * base[a][k] + 0.05 * std::sin(3.0 * a + k));
            species.push_back(14);
        }
    }
    int64_t size() const { return static_cast<int64_t>(species.size()); }
};

// The SOAP descriptor on the structure's neighbour list, with its features and gradient blocks.
struct Described {
    const atomfp::Descriptor soap{soap_spec};
    Structure s;
    const atomfp::NeighbourList list{s.size(), s.positions.data(), s.species.data(), s.cell, nullptr, soap.cutoff()};
    std::vector<double> features, gradients;
    const int64_t nf = soap.feature_count();
    Described() { soap.compute(list.system(), features, gradients); }
};

template <typename Call>
atomfp_status_t status_of(Call call) {
    try {
        call();
    } catch (const atomfp::Error& error) {
        EXPECT_NE(std::string(error.what()).find(atomfp_status_name(error.status())), std::string::npos) << error.what();
        return error.status();
    }
    return ATOMFP_OK;
}

TEST(CppWrapper, FailuresCarryTheStatusAndTheMessage) {
    EXPECT_EQ(status_of([] { atomfp::Descriptor d(R"({"type": "acsf", "species": [14], "cutof": 4})"); }), ATOMFP_ERROR_JSON);
    try {
        atomfp::Descriptor d(R"({"type": "acsf", "species": [14], "cutof": 4})");
        FAIL() << "an unknown key is accepted";
    } catch (const atomfp::Error& error) {
        EXPECT_NE(std::string(error.what()).find("cutof"), std::string::npos) << error.what();
    }
    EXPECT_EQ(status_of([] { atomfp::Model m("/nonexistent/model.afp"); }), ATOMFP_ERROR_IO);
    EXPECT_EQ(status_of([] { atomfp::Frames f("/nonexistent/frames.extxyz"); }), ATOMFP_ERROR_IO);
    Structure s;
    s.positions[4] = NAN;
    EXPECT_EQ(status_of([&s] { atomfp::NeighbourList l(s.size(), s.positions.data(), s.species.data(), s.cell, nullptr, 4.0); }),
              ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(status_of([] { atomfp::NeighbourList l(3, nullptr, nullptr, nullptr, nullptr, 4.0); }), ATOMFP_ERROR_INVALID_ARGUMENT);
    const atomfp::Descriptor acsf(acsf_spec);
    EXPECT_EQ(status_of([&acsf] { acsf.feature_label(acsf.feature_count()); }), ATOMFP_ERROR_INVALID_ARGUMENT);
    // A species the descriptor does not know: the compute call's status.
    Structure carbon;
    carbon.species[0] = 6;
    const atomfp::NeighbourList list(carbon.size(), carbon.positions.data(), carbon.species.data(), carbon.cell, nullptr, 4.0);
    EXPECT_EQ(status_of([&] { acsf.features(list.system()); }), ATOMFP_ERROR_SPECIES);
}

TEST(CppWrapper, HandlesMoveAndFreeOnce) {
    atomfp::Descriptor first(acsf_spec);
    const int64_t n = first.feature_count();
    atomfp::Descriptor second(std::move(first));
    EXPECT_EQ(first.get(), nullptr);
    EXPECT_EQ(second.feature_count(), n);
    atomfp::Descriptor third(soap_spec);
    third = std::move(second);  // frees the SOAP handle, takes the ACSF one
    EXPECT_EQ(third.feature_count(), n);
    EXPECT_EQ(second.get(), nullptr);
}

TEST(CppWrapper, StringsLongerThanTheFirstBufferRoundTrip) {
    // A feature subset lists its features in its parameters, which makes them long.
    std::string subset = R"({"type": "feature_subset", "descriptor": )" + soap_spec + R"(, "features": [0)";
    for (int f = 1; f < 100; ++f) subset += ", " + std::to_string(f);
    const atomfp::Descriptor soap(subset + "]}");
    const std::string parameters = soap.parameters();
    EXPECT_GT(parameters.size(), 256u);
    const atomfp::Descriptor again(parameters);
    Structure s;
    const atomfp::NeighbourList list(s.size(), s.positions.data(), s.species.data(), s.cell, nullptr, soap.cutoff());
    EXPECT_EQ(soap.features(list.system()), again.features(list.system()));
    EXPECT_FALSE(soap.feature_label(0).empty());
}

TEST(CppWrapper, CentreSubsetMatchesTheRowsAndBlocksOfTheFullSystem) {
    const Described d;
    const atomfp::Descriptor& soap = d.soap;
    const atomfp::NeighbourList& list = d.list;
    const atomfp_system_t& full = list.system();
    const std::vector<double>& all_features = d.features;
    const std::vector<double>& all_gradients = d.gradients;
    const int64_t nf = d.nf;

    const std::vector<int64_t> chosen = {5, 1};
    const atomfp::CentreSubset subset = list.centres(chosen);
    const atomfp::CentreSubset copy = subset;  // copies own their arrays
    std::vector<double> features, gradients;
    soap.compute(copy.system(), features, gradients);
    const atomfp_system_t view = copy.system();
    ASSERT_EQ(view.n_centers, 2);
    for (std::size_t c = 0; c < chosen.size(); ++c) {
        const int64_t i = chosen[c];
        for (int64_t f = 0; f < nf; ++f) EXPECT_EQ(features[c * nf + f], all_features[i * nf + f]);
        const int64_t blocks = 1 + full.offsets[i + 1] - full.offsets[i];
        ASSERT_EQ(blocks, 1 + view.offsets[c + 1] - view.offsets[c]);
        const int64_t from = (i + full.offsets[i]) * 3 * nf, to = (static_cast<int64_t>(c) + view.offsets[c]) * 3 * nf;
        for (int64_t k = 0; k < blocks * 3 * nf; ++k) EXPECT_EQ(gradients[to + k], all_gradients[from + k]);
    }
    EXPECT_THROW(atomfp::CentreSubset(copy.system(), {0}), std::invalid_argument);  // 0 is not one of its centres
}

TEST(CppWrapper, ModelPredictionAgreesWithTheCentreEnergiesAndTheForceSum) {
    const atomfp::Model model(ATOMFP_SI_MODEL);
    ASSERT_EQ(model.species(), std::vector<int32_t>{14});
    const atomfp::Frames frames(ATOMFP_SI_DATA);
    ASSERT_GT(frames.size(), 0);
    const atomfp::FrameView frame = frames[0];
    const atomfp::NeighbourList list(frame.n_atoms, frame.positions, frame.species, frame.cell, frame.pbc, model.cutoff());
    const atomfp::Prediction prediction = model.predict(list.system());
    std::vector<double> centre_energies(static_cast<std::size_t>(frame.n_atoms));
    model.predict(list.system(), nullptr, centre_energies.data(), nullptr, nullptr);
    double sum = 0.0;
    for (double e : centre_energies) sum += e;
    EXPECT_NEAR(prediction.energy, sum, 1e-9 * std::fabs(sum));
    // Newton's third law: the forces of a periodic structure sum to zero.
    for (int k = 0; k < 3; ++k) {
        double total = 0.0;
        for (int64_t a = 0; a < frame.n_atoms; ++a) total += prediction.forces[3 * a + k];
        EXPECT_NEAR(total, 0.0, 1e-9);
    }
    EXPECT_EQ(status_of([&frames] { frames[frames.size()]; }), ATOMFP_ERROR_INVALID_ARGUMENT);
    // The shipped Si model carries its posterior covariance and feature ranges; a format version 1
    // file has neither, and asking says so.
    std::vector<double> variances(static_cast<std::size_t>(frame.n_atoms)), gradient(3 * static_cast<std::size_t>(frame.n_atoms));
    std::vector<int64_t> outside(static_cast<std::size_t>(frame.n_atoms), -1);
    double variance = 0.0;
    model.predict_variance(list.system(), variances.data(), &variance);
    EXPECT_GT(variance, 0.0);
    for (double v : variances) EXPECT_GT(v, 0.0);
    model.extrapolation(list.system(), outside.data(), nullptr);
    for (int64_t k : outside) EXPECT_GE(k, 0);
    const std::vector<double> mean(static_cast<std::size_t>(frame.n_atoms), 1.0 / static_cast<double>(frame.n_atoms));
    model.variance_gradient(list.system(), mean.data(), gradient.data(), nullptr);
    double largest = 0.0;
    for (double g : gradient) largest = std::max(largest, std::fabs(g));
    EXPECT_GT(largest, 0.0);
    const atomfp::Model legacy(ATOMFP_LEGACY_MODEL);
    EXPECT_EQ(status_of([&] { legacy.predict_variance(list.system(), nullptr, &variance); }), ATOMFP_ERROR_NOT_AVAILABLE);
    EXPECT_EQ(status_of([&] { legacy.extrapolation(list.system(), outside.data(), nullptr); }), ATOMFP_ERROR_NOT_AVAILABLE);
}

}  // namespace

TEST(CppWrapper, ContractionEqualsTheGradientBlocksContracted) {
    const Described d;
    const atomfp::Descriptor& soap = d.soap;
    const atomfp_system_t& system = d.list.system();
    const std::vector<double>& features = d.features;
    const std::vector<double>& gradients = d.gradients;
    const int64_t nf = d.nf;
    std::vector<double> weights(features.size());
    for (std::size_t k = 0; k < weights.size(); ++k) weights[k] = std::sin(0.1 * static_cast<double>(k));
    const atomfp::Prediction contracted = soap.contract(system, weights);
    std::vector<double> expected(3 * static_cast<std::size_t>(system.n_atoms), 0.0);
    double largest = 0.0;
    for (int64_t c = 0; c < system.n_centers; ++c) {
        for (int64_t b = 0; b <= system.offsets[c + 1] - system.offsets[c]; ++b) {
            const int64_t atom = b == 0 ? system.centers[c] : system.neighbours[system.offsets[c] + b - 1];
            const double* block = gradients.data() + (c + system.offsets[c] + b) * 3 * nf;
            for (int a = 0; a < 3; ++a)
                for (int64_t f = 0; f < nf; ++f) expected[3 * atom + a] -= weights[c * nf + f] * block[a * nf + f];
        }
    }
    for (double x : expected) largest = std::max(largest, std::abs(x));
    ASSERT_GT(largest, 0.0);
    for (std::size_t k = 0; k < expected.size(); ++k) EXPECT_NEAR(contracted.forces[k], expected[k], 1e-12 * largest);
    weights.pop_back();
    EXPECT_THROW(soap.contract(system, weights), std::invalid_argument);
    weights.push_back(std::nan(""));
    EXPECT_THROW(soap.contract(system, weights), atomfp::Error);
}
