// Every public function against bad input: the answer is a status code and a message naming the
// problem, with outputs untouched.
#include "atomfp.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <pthread.h>
#include <sys/stat.h>
#include <sstream>
#include <thread>
#include <string>
#include <vector>

namespace {

const char* si_spec = R"({"type": "acsf", "species": [14], "cutoff": 3.0})";

struct Dimer {
    double positions[6] = {0, 0, 0, 2.2, 0.1, 0.0};
    int32_t species[2] = {14, 14};
    int64_t centers[2] = {0, 1};
    int64_t offsets[3] = {0, 1, 2};
    int64_t neighbours[2] = {1, 0};
    atomfp_system_t system() {
        return atomfp_system_t{2, positions, species, nullptr, 2, centers, offsets, neighbours, nullptr};
    }
};

class CApi : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(atomfp_descriptor_create(si_spec, &d), ATOMFP_OK); }
    void TearDown() override { atomfp_descriptor_free(d); }

    // Runs compute on a broken system, expects `status` and a message containing `needle`, and
    // checks that neither output was written.
    void expect_compute_error(const atomfp_system_t& system, atomfp_status_t status, const std::string& needle) {
        int64_t nf = 0;
        ASSERT_EQ(atomfp_descriptor_feature_count(d, &nf), ATOMFP_OK);
        std::vector<double> features(2 * nf, -7.0), gradients(4 * 3 * nf, -7.0);
        EXPECT_EQ(atomfp_descriptor_compute(d, &system, features.data(), gradients.data()), status);
        EXPECT_NE(std::string(atomfp_last_error()).find(needle), std::string::npos) << atomfp_last_error();
        for (double x : features) ASSERT_EQ(x, -7.0);
        for (double x : gradients) ASSERT_EQ(x, -7.0);
    }

    atomfp_descriptor_t* d = nullptr;
};

}  // namespace

TEST(CApiBasics, VersionAndStatusNames) {
    int major = -1, minor = -1, patch = -1;
    EXPECT_EQ(atomfp_version(&major, &minor, &patch), ATOMFP_OK);
    EXPECT_EQ(major, ATOMFP_VERSION_MAJOR);
    EXPECT_EQ(minor, ATOMFP_VERSION_MINOR);
    EXPECT_EQ(patch, ATOMFP_VERSION_PATCH);
    EXPECT_EQ(atomfp_version(nullptr, nullptr, nullptr), ATOMFP_OK);
    EXPECT_STREQ(atomfp_version_string(), ATOMFP_VERSION_STRING);
    EXPECT_STREQ(atomfp_status_name(ATOMFP_ERROR_JSON), "ATOMFP_ERROR_JSON");
    EXPECT_STREQ(atomfp_status_name(12345), "ATOMFP_UNKNOWN_STATUS");
}

TEST(CApiBasics, FreeNullIsANoOp) {
    atomfp_descriptor_free(nullptr);
    atomfp_neighbours_free(nullptr);
}

TEST(CApiBasics, LastErrorIsThreadLocal) {
    atomfp_descriptor_t* d = nullptr;
    EXPECT_EQ(atomfp_descriptor_create("{", &d), ATOMFP_ERROR_JSON);
    std::string main_message = atomfp_last_error();
    std::string other;
    std::thread([&] { other = atomfp_last_error(); }).join();
    EXPECT_EQ(other, "");
    EXPECT_EQ(main_message, atomfp_last_error());
}

TEST(CApiDescriptor, CreateRejectsBadSpecifications) {
    struct Case {
        const char* json;
        const char* needle;
    };
    const Case cases[] = {
        {"{", "malformed JSON"},
        {"[1, 2]", "must be a JSON object"},
        {R"({"species": [14]})", "missing required key 'type'"},
        {R"({"type": 3})", "'type' must be a string"},
        {R"({"type": "soapy"})", "\"soapy\" is not a known descriptor"},
        {R"({"type": "acsf"})", "missing required key 'species'"},
        {R"({"type": "acsf", "species": [14], "cutof": 5})", "unknown key 'cutof'"},
        {R"({"type": "acsf", "species": [14], "cutoff": "5"})", "'cutoff' must be a number"},
        {R"({"type": "acsf", "species": [14], "cutoff": 0})", "'cutoff' = 0 is out of range"},
        {R"({"type": "acsf", "species": [14], "cutoff": -2.5})", "'cutoff' = -2.5 is out of range"},
        {R"({"type": "acsf", "species": [14, 14]})", "lists 14 twice"},
        {R"({"type": "acsf", "species": [200]})", "'species[0]' = 200 is not an element"},
        {R"({"type": "acsf", "species": ["Si", "Xx"]})", "'species[1]' = \"Xx\" is not an element"},
        {R"({"type": "acsf", "species": [14.5]})", "'species[0]' must be an atomic number or a chemical symbol"},
        {R"({"type": "acsf", "species": ["Si", 14]})", "lists 14 twice"},
        {R"({"type": "acsf", "species": []})", "at least one"},
        {R"({"type": "acsf", "species": [14], "cutoff_function": "gauss"})", "'cutoff_function' = \"gauss\" is not one of"},
        {R"({"type": "acsf", "species": [14], "preset": "nope"})", "'preset' = \"nope\""},
        {R"({"type": "acsf", "species": [14], "preset": "imbalzano2018", "radial": []})", "cannot be combined"},
        {R"({"type": "acsf", "species": [14], "radial": [{"eta": 1, "rs": 0}]})", "unknown key 'radial[0].rs'"},
        {R"({"type": "acsf", "species": [14], "radial": [{"r_shift": 0}]})", "missing required key 'radial[0].eta'"},
        {R"({"type": "acsf", "species": [14], "radial": {"eta": 1}})", "'radial' must be an array"},
        {R"({"type": "acsf", "species": [14], "angular": [{"eta": 1, "zeta": 1, "lambda": 0}]})", "must be -1 or 1"},
        {R"({"type": "acsf", "species": [14], "angular": [{"eta": 1, "zeta": 0.5, "lambda": 1}]})", "'angular[0].zeta' = 0.5"},
        {R"({"type": "acsf", "species": [14], "angular": [{"eta": 1, "zeta": 1, "lambda": 1.5}]})", "must be an integer"},
        {R"({"type": "acsf", "species": [14], "angular": [{"eta": 1, "zeta": 1, "lambda": 1, "form": "tall"}]})", "'angular[0].form'"},
        {R"({"type": "acsf", "species": [14], "radial": [], "angular": []})", "defines no functions"},
        {R"({"type": "acsf", "species": [14], "pair_sum": true})", "'pair_sum' must be a string"},
        {R"({"type": "acsf", "species": [14], "cutoff": 1e400})", "malformed JSON"},
        // Checked before anything costly is built (these took minutes and gigabytes before):
        {R"({"type": "soap_power_spectrum", "species": [14], "cutoff": 100, "bogus": 1})", "unknown key 'bogus'"},
        {R"({"type": "soap_power_spectrum", "species": [14], "cutoff": 1000})", "'atomic_gaussian_width' = 2000 exceeds 250"},
        {R"({"type": "spherical_expansion", "species": [14], "cutoff": 50, "atomic_gaussian_width": 0.2, "radial_basis": "dvr",
             "max_radial": 64, "max_angular": 20})", "the radial splines would take minutes to build"},
        {R"({"type": "soap_power_spectrum", "species": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
             "radial_basis": "dvr", "max_radial": 128, "max_angular": 20})", "features, more than 1000000"},
        {R"({"type": "acsf", "species": [14], "species": [6]})", "'species' appears twice"},
        {R"({"type": "feature_subset", "descriptor": {"type": "feature_subset", "descriptor": {"type": "acsf", "species": [14]}, "features": [0]}, "features": [0]})",
         "is itself a feature_subset"},
    };
    for (const Case& c : cases) {
        atomfp_descriptor_t* out = reinterpret_cast<atomfp_descriptor_t*>(0x1);
        EXPECT_EQ(atomfp_descriptor_create(c.json, &out), ATOMFP_ERROR_JSON) << c.json;
        EXPECT_NE(std::string(atomfp_last_error()).find(c.needle), std::string::npos) << c.json << " -> " << atomfp_last_error();
        EXPECT_EQ(out, reinterpret_cast<atomfp_descriptor_t*>(0x1)) << "output touched for " << c.json;
    }
    atomfp_descriptor_t* out = nullptr;
    EXPECT_EQ(atomfp_descriptor_create(nullptr, &out), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(atomfp_last_error()).find("json is NULL"), std::string::npos);
    EXPECT_EQ(atomfp_descriptor_create(si_spec, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(atomfp_last_error()).find("out is NULL"), std::string::npos);
}

// A deeply nested specification (20,000 levels of feature_subset, ~1 MB) is refused by the parser
// without recursion, even on a thread with a 256 KiB stack (it used to overflow the stack).
TEST_F(CApi, DeeplyNestedSpecificationIsRefusedOnASmallStack) {
    std::string spec;
    for (int k = 0; k < 20000; ++k) spec += R"({"type": "feature_subset", "features": [0], "descriptor": )";
    spec += R"({"type": "acsf", "species": [14]})";
    for (int k = 0; k < 20000; ++k) spec += "}";
    struct Call {
        const std::string* spec;
        atomfp_status_t status;
        std::string message;
    } call{&spec, ATOMFP_OK, ""};
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    ASSERT_EQ(pthread_attr_setstacksize(&attributes, 256 * 1024), 0);
    pthread_t thread;
    ASSERT_EQ(pthread_create(
                  &thread, &attributes,
                  [](void* argument) -> void* {
                      auto* c = static_cast<Call*>(argument);
                      atomfp_descriptor_t* d = nullptr;
                      c->status = atomfp_descriptor_create(c->spec->c_str(), &d);
                      c->message = atomfp_last_error();
                      atomfp_descriptor_free(d);
                      return nullptr;
                  },
                  &call),
              0);
    pthread_join(thread, nullptr);
    pthread_attr_destroy(&attributes);
    EXPECT_EQ(call.status, ATOMFP_ERROR_JSON);
    EXPECT_NE(call.message.find("nested deeper than"), std::string::npos) << call.message;
}

// Species may be given as chemical symbols wherever a specification lists elements: the descriptor
// is the same one (canonical parameters list atomic numbers) and computes the same features.
TEST_F(CApi, SpeciesBySymbolEqualsSpeciesByAtomicNumber) {
    const std::pair<const char*, const char*> specs[] = {
        {R"({"type": "acsf", "species": ["Si", "C"], "cutoff": 4.0})",
         R"({"type": "acsf", "species": [14, 6], "cutoff": 4.0})"},
        {R"({"type": "soap_power_spectrum", "species": ["C", "Si"], "cutoff": 4.0, "max_radial": 3, "max_angular": 2})",
         R"({"type": "soap_power_spectrum", "species": [6, 14], "cutoff": 4.0, "max_radial": 3, "max_angular": 2})"},
        {R"({"type": "chebyshev", "species": ["Si", "C"], "radial_cutoff": 4.0, "angular_cutoff": 3.0})",
         R"({"type": "chebyshev", "species": [14, 6], "radial_cutoff": 4.0, "angular_cutoff": 3.0})"},
        {R"({"type": "omfp", "species": ["Si", "C"], "cutoff": 4.0, "max_atoms": 8})",
         R"({"type": "omfp", "species": [14, 6], "cutoff": 4.0, "max_atoms": 8})"},
    };
    for (const auto& [by_symbol, by_number] : specs) {
        atomfp_descriptor_t* a = nullptr;
        atomfp_descriptor_t* b = nullptr;
        ASSERT_EQ(atomfp_descriptor_create(by_symbol, &a), ATOMFP_OK) << by_symbol << ": " << atomfp_last_error();
        ASSERT_EQ(atomfp_descriptor_create(by_number, &b), ATOMFP_OK) << by_number << ": " << atomfp_last_error();
        char text_a[4096], text_b[4096];
        int64_t length = 0;
        ASSERT_EQ(atomfp_descriptor_parameters(a, text_a, sizeof text_a, &length), ATOMFP_OK);
        ASSERT_EQ(atomfp_descriptor_parameters(b, text_b, sizeof text_b, &length), ATOMFP_OK);
        EXPECT_STREQ(text_a, text_b) << by_symbol;
        atomfp_descriptor_free(a);
        atomfp_descriptor_free(b);
    }
}

// Finite positions and cell whose combination overflows: x_j - x_i = +inf and shift . cell = -inf
// give a NaN separation, which used to pass the cutoff test and fill features with NaN (ACSF,
// SOAP), reach undefined behaviour (the SOAP spline) or fail half-way (OMFP). Now every descriptor
// refuses it before writing anything.
TEST_F(CApi, OverflowingSeparationsAreRefusedBeforeAnythingIsWritten) {
    const double positions[6] = {-1.7e308, 0, 0, 1.7e308, 0, 0};
    const int32_t species[2] = {14, 14};
    const double cell[9] = {1.7e308, 0, 0, 0, 10, 0, 0, 0, 10};
    const int64_t centers[2] = {0, 1}, offsets[3] = {0, 1, 2}, neighbours[2] = {1, 0};
    const int32_t shifts[6] = {-2, 0, 0, 2, 0, 0};
    const atomfp_system_t system{2, positions, species, cell, 2, centers, offsets, neighbours, shifts};
    for (const char* spec : {R"({"type": "acsf", "species": [14], "cutoff": 3.0})",
                             R"({"type": "soap_power_spectrum", "species": [14], "cutoff": 3.0, "max_radial": 3, "max_angular": 2})",
                             R"({"type": "omfp", "cutoff": 3.0, "max_atoms": 8})"}) {
        atomfp_descriptor_t* descriptor = nullptr;
        ASSERT_EQ(atomfp_descriptor_create(spec, &descriptor), ATOMFP_OK) << atomfp_last_error();
        int64_t nf = 0;
        atomfp_descriptor_feature_count(descriptor, &nf);
        std::vector<double> features(2 * nf, 42.0), gradients(4 * 3 * nf, 42.0);
        EXPECT_EQ(atomfp_descriptor_compute(descriptor, &system, features.data(), gradients.data()),
                  ATOMFP_ERROR_INVALID_ARGUMENT)
            << spec;
        EXPECT_NE(std::string(atomfp_last_error()).find("is not finite: positions or cell are too large"), std::string::npos)
            << atomfp_last_error();
        EXPECT_TRUE(std::all_of(features.begin(), features.end(), [](double x) { return x == 42.0; })) << spec;
        EXPECT_TRUE(std::all_of(gradients.begin(), gradients.end(), [](double x) { return x == 42.0; })) << spec;
        atomfp_descriptor_free(descriptor);
    }
}

// Untrusted inputs of every kind end in a status and a bounded message.
TEST_F(CApi, HostileInputsGiveStatusesAndBoundedMessages) {
    // A preset for a tiny cutoff would need infinite widths, which no canonical specification holds.
    atomfp_descriptor_t* out = reinterpret_cast<atomfp_descriptor_t*>(0x1);
    EXPECT_EQ(atomfp_descriptor_create(R"({"type": "acsf", "species": [14], "cutoff": 1e-200})", &out), ATOMFP_ERROR_JSON);
    EXPECT_NE(std::string(atomfp_last_error()).find("too small for the preset"), std::string::npos) << atomfp_last_error();
    // A preset whose widths would leave the range of explicit keys is refused (its canonical
    // specification could not be read back), and the smallest accepted cutoff round-trips.
    EXPECT_EQ(atomfp_descriptor_create(R"({"type": "acsf", "species": [14], "cutoff": 1e-3})", &out), ATOMFP_ERROR_JSON);
    EXPECT_NE(std::string(atomfp_last_error()).find("too small for the preset"), std::string::npos) << atomfp_last_error();
    atomfp_descriptor_t* tiny = nullptr;
    ASSERT_EQ(atomfp_descriptor_create(R"({"type": "acsf", "species": [14], "cutoff": 0.01})", &tiny), ATOMFP_OK)
        << atomfp_last_error();
    std::vector<char> canonical(1 << 16), again(1 << 16);
    int64_t length = 0;
    ASSERT_EQ(atomfp_descriptor_parameters(tiny, canonical.data(), 1 << 16, &length), ATOMFP_OK);
    atomfp_descriptor_t* recreated = nullptr;
    ASSERT_EQ(atomfp_descriptor_create(canonical.data(), &recreated), ATOMFP_OK) << atomfp_last_error();
    ASSERT_EQ(atomfp_descriptor_parameters(recreated, again.data(), 1 << 16, &length), ATOMFP_OK);
    EXPECT_STREQ(canonical.data(), again.data());
    atomfp_descriptor_free(tiny);
    atomfp_descriptor_free(recreated);

    // A megabyte-long value is not echoed whole.
    const std::string huge = R"({"type": ")" + std::string(1 << 20, 'x') + R"("})";
    EXPECT_EQ(atomfp_descriptor_create(huge.c_str(), &out), ATOMFP_ERROR_JSON);
    EXPECT_LT(std::string(atomfp_last_error()).size(), 2200u);
    EXPECT_NE(std::string(atomfp_last_error()).find("more characters)"), std::string::npos);

    // Files that are not regular, empty, or too large.
    const std::string directory = ::testing::TempDir() + "atomfp_hostile_inputs";
    std::filesystem::remove_all(directory);
    std::filesystem::create_directories(directory);
    const std::string fifo = directory + "/fifo", empty = directory + "/empty.extxyz", small = directory + "/one.extxyz";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    std::ofstream(empty).close();
    std::ofstream(small) << "1\nProperties=species:S:1:pos:R:3\nSi 0 0 0\n";
    atomfp_frames_t* frames = reinterpret_cast<atomfp_frames_t*>(0x1);
    const std::pair<std::string, std::string> cases[] = {
        {directory, "is a directory"}, {fifo, "not a regular file"}, {"/dev/zero", "not a regular file"},
        {empty, "holds no structures"}};
    for (const auto& [path, needle] : cases) {
        EXPECT_NE(atomfp_frames_read(path.c_str(), &frames), ATOMFP_OK) << path;
        EXPECT_NE(std::string(atomfp_last_error()).find(needle), std::string::npos) << path << ": " << atomfp_last_error();
        EXPECT_EQ(frames, reinterpret_cast<atomfp_frames_t*>(0x1));
    }
    atomfp_model_t* model = reinterpret_cast<atomfp_model_t*>(0x1);
    EXPECT_EQ(atomfp_model_load(directory.c_str(), &model), ATOMFP_ERROR_IO);
    EXPECT_EQ(model, reinterpret_cast<atomfp_model_t*>(0x1));
    setenv("ATOMFP_MAX_INPUT_BYTES", "10", 1);
    EXPECT_EQ(atomfp_frames_read(small.c_str(), &frames), ATOMFP_ERROR_IO);
    EXPECT_NE(std::string(atomfp_last_error()).find("ATOMFP_MAX_INPUT_BYTES"), std::string::npos) << atomfp_last_error();
    unsetenv("ATOMFP_MAX_INPUT_BYTES");
    ASSERT_EQ(atomfp_frames_read(small.c_str(), &frames), ATOMFP_OK);
    atomfp_frames_free(frames);
    std::filesystem::remove_all(directory);

    // Atom counts whose products would overflow.
    const double position[3] = {0, 0, 0};
    const int32_t species[1] = {14};
    atomfp_neighbours_t* list = reinterpret_cast<atomfp_neighbours_t*>(0x1);
    EXPECT_EQ(atomfp_neighbours_build(INT64_MAX / 2, position, species, nullptr, nullptr, 3.0, &list),
              ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(list, reinterpret_cast<atomfp_neighbours_t*>(0x1));
}

TEST_F(CApi, QueriesRejectNullAndOutOfRange) {
    int64_t n = -5;
    double cutoff = -5;
    EXPECT_EQ(atomfp_descriptor_feature_count(nullptr, &n), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_descriptor_feature_count(d, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_descriptor_cutoff(nullptr, &cutoff), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_descriptor_cutoff(d, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(n, -5);
    EXPECT_EQ(cutoff, -5);
    EXPECT_EQ(atomfp_descriptor_cutoff(d, &cutoff), ATOMFP_OK);
    EXPECT_EQ(cutoff, 3.0);

    char buffer[8] = "keep";
    int64_t required = -1;
    EXPECT_EQ(atomfp_descriptor_feature_label(d, 58, buffer, 8, &required), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(atomfp_last_error()).find("feature index 58 is out of range [0, 58)"), std::string::npos);
    EXPECT_EQ(atomfp_descriptor_feature_label(d, -1, buffer, 8, &required), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_descriptor_feature_label(nullptr, 0, buffer, 8, &required), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_descriptor_feature_label(d, 0, nullptr, 8, &required), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_descriptor_feature_label(d, 0, buffer, -3, &required), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_STREQ(buffer, "keep");
}

TEST_F(CApi, StringsReportTheRequiredSizeWhenTheBufferIsTooSmall) {
    int64_t required = 0;
    char small[4] = "abc";
    EXPECT_EQ(atomfp_descriptor_feature_label(d, 0, small, 4, &required), ATOMFP_ERROR_BUFFER_TOO_SMALL);
    EXPECT_STREQ(small, "abc");
    std::vector<char> label(required);
    EXPECT_EQ(atomfp_descriptor_feature_label(d, 0, label.data(), required, nullptr), ATOMFP_OK);
    EXPECT_EQ(static_cast<int64_t>(std::string(label.data()).size()) + 1, required);
    EXPECT_EQ(std::string(label.data()).rfind("G2[Si]", 0), 0u);

    EXPECT_EQ(atomfp_descriptor_parameters(d, nullptr, 0, &required), ATOMFP_ERROR_BUFFER_TOO_SMALL);
    EXPECT_NE(std::string(atomfp_last_error()).find("needed"), std::string::npos);
    std::vector<char> json(required);
    EXPECT_EQ(atomfp_descriptor_parameters(d, json.data(), required, nullptr), ATOMFP_OK);
    atomfp_descriptor_t* again = nullptr;
    ASSERT_EQ(atomfp_descriptor_create(json.data(), &again), ATOMFP_OK);
    atomfp_descriptor_free(again);
    EXPECT_EQ(atomfp_descriptor_parameters(nullptr, json.data(), required, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
}

TEST_F(CApi, ComputeRejectsBrokenSystems) {
    Dimer dimer;
    int64_t nf = 0;
    atomfp_descriptor_feature_count(d, &nf);
    std::vector<double> features(2 * nf);
    atomfp_system_t good = dimer.system();
    EXPECT_EQ(atomfp_descriptor_compute(d, &good, features.data(), nullptr), ATOMFP_OK);
    EXPECT_EQ(atomfp_descriptor_compute(nullptr, &good, features.data(), nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_descriptor_compute(d, nullptr, features.data(), nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(atomfp_last_error()).find("system is NULL"), std::string::npos);

    struct DimerCase {
        void (*edit)(Dimer&);
        atomfp_status_t status;
        const char* needle;
    };
    const DimerCase dimer_cases[] = {
        {[](Dimer& c) { c.positions[4] = NAN; }, ATOMFP_ERROR_INVALID_ARGUMENT, "positions of atom 1 is not finite"},
        {[](Dimer& c) { c.positions[0] = INFINITY; }, ATOMFP_ERROR_INVALID_ARGUMENT, "positions of atom 0 is not finite"},
        {[](Dimer& c) { c.neighbours[1] = 2; }, ATOMFP_ERROR_NEIGHBOURS, "neighbours[1] = 2 is out of range [0, 2)"},
        {[](Dimer& c) { c.neighbours[0] = -1; }, ATOMFP_ERROR_NEIGHBOURS, "neighbours[0] = -1"},
        {[](Dimer& c) { c.centers[1] = 7; }, ATOMFP_ERROR_NEIGHBOURS, "centers[1] = 7 is out of range"},
        {[](Dimer& c) { c.offsets[1] = 3; }, ATOMFP_ERROR_NEIGHBOURS, "offsets must be non-decreasing"},
        {[](Dimer& c) { c.offsets[0] = 1; }, ATOMFP_ERROR_NEIGHBOURS, "offsets[0] must be 0"},
        {[](Dimer& c) { c.species[1] = 6; }, ATOMFP_ERROR_SPECIES, "atom 1 has species 6 (C)"},
        {[](Dimer& c) { c.positions[3] = 1e-9, c.positions[4] = 0.0; }, ATOMFP_ERROR_INVALID_ARGUMENT, "coincide"},
    };
    for (const DimerCase& c : dimer_cases) {
        Dimer dimer_copy;
        c.edit(dimer_copy);
        expect_compute_error(dimer_copy.system(), c.status, c.needle);
    }
    static const int32_t zero_shifts[6] = {0, 0, 0, 0, 0, 0};
    static const double nan_cell[9] = {1, 0, 0, 0, NAN, 0, 0, 0, 1};
    struct Case {
        void (*edit)(atomfp_system_t&);
        atomfp_status_t status;
        const char* needle;
    };
    const Case cases[] = {
        {[](atomfp_system_t& s) { s.positions = nullptr; }, ATOMFP_ERROR_INVALID_ARGUMENT, "system.positions is NULL"},
        {[](atomfp_system_t& s) { s.species = nullptr; }, ATOMFP_ERROR_INVALID_ARGUMENT, "system.species is NULL"},
        {[](atomfp_system_t& s) { s.offsets = nullptr; }, ATOMFP_ERROR_INVALID_ARGUMENT, "system.offsets is NULL"},
        {[](atomfp_system_t& s) { s.neighbours = nullptr; }, ATOMFP_ERROR_INVALID_ARGUMENT, "system.neighbours is NULL"},
        {[](atomfp_system_t& s) { s.centers = nullptr; }, ATOMFP_ERROR_INVALID_ARGUMENT, "system.centers is NULL"},
        {[](atomfp_system_t& s) { s.n_atoms = -1; }, ATOMFP_ERROR_INVALID_ARGUMENT, "n_atoms must be in [0, "},
        {[](atomfp_system_t& s) { s.n_centers = -2; }, ATOMFP_ERROR_INVALID_ARGUMENT, "n_centers must be in [0, "},
        {[](atomfp_system_t& s) { s.n_atoms = INT64_MAX / 2; }, ATOMFP_ERROR_INVALID_ARGUMENT, "n_atoms must be in [0, "},
        {[](atomfp_system_t& s) { s.cell_shifts = zero_shifts; }, ATOMFP_ERROR_INVALID_ARGUMENT,
         "cell_shifts is given but system.cell is NULL"},
        {[](atomfp_system_t& s) { s.cell = nan_cell; }, ATOMFP_ERROR_INVALID_ARGUMENT, "cell has a non-finite entry"},
    };
    for (const Case& c : cases) {
        Dimer dimer_copy;
        atomfp_system_t s = dimer_copy.system();
        c.edit(s);
        expect_compute_error(s, c.status, c.needle);
    }
}

TEST(CApiNeighbours, BuildAndViewRejectBadInput) {
    const double positions[6] = {0, 0, 0, 1.5, 0, 0};
    const int32_t species[2] = {14, 14};
    atomfp_neighbours_t* list = reinterpret_cast<atomfp_neighbours_t*>(0x1);
    EXPECT_EQ(atomfp_neighbours_build(2, positions, species, nullptr, nullptr, 0.0, &list), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(atomfp_last_error()).find("cutoff must be positive"), std::string::npos);
    EXPECT_EQ(atomfp_neighbours_build(2, positions, species, nullptr, nullptr, -1.0, &list), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_neighbours_build(2, nullptr, species, nullptr, nullptr, 2.0, &list), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(atomfp_last_error()).find("positions is NULL"), std::string::npos);
    EXPECT_EQ(atomfp_neighbours_build(2, positions, nullptr, nullptr, nullptr, 2.0, &list), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_neighbours_build(2, positions, species, nullptr, nullptr, 2.0, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    const double nan_positions[6] = {0, 0, 0, NAN, 0, 0};
    EXPECT_EQ(atomfp_neighbours_build(2, nan_positions, species, nullptr, nullptr, 2.0, &list), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(atomfp_last_error()).find("atom 1 is not finite"), std::string::npos);
    EXPECT_EQ(list, reinterpret_cast<atomfp_neighbours_t*>(0x1));

    ASSERT_EQ(atomfp_neighbours_build(2, positions, species, nullptr, nullptr, 2.0, &list), ATOMFP_OK);
    atomfp_system_t view;
    EXPECT_EQ(atomfp_neighbours_system(nullptr, &view), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_neighbours_system(list, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    ASSERT_EQ(atomfp_neighbours_system(list, &view), ATOMFP_OK);
    EXPECT_EQ(view.n_atoms, 2);
    EXPECT_EQ(view.n_centers, 2);
    EXPECT_EQ(view.offsets[2], 2);
    EXPECT_EQ(view.neighbours[0], 1);
    EXPECT_EQ(view.cell, nullptr);
    EXPECT_EQ(view.cell_shifts, nullptr);
    atomfp_neighbours_free(list);
}

TEST(CApiNeighbours, EmptySystemIsFine) {
    atomfp_neighbours_t* list = nullptr;
    ASSERT_EQ(atomfp_neighbours_build(0, nullptr, nullptr, nullptr, nullptr, 2.0, &list), ATOMFP_OK);
    atomfp_system_t view;
    ASSERT_EQ(atomfp_neighbours_system(list, &view), ATOMFP_OK);
    atomfp_descriptor_t* d = nullptr;
    ASSERT_EQ(atomfp_descriptor_create(si_spec, &d), ATOMFP_OK);
    EXPECT_EQ(atomfp_descriptor_compute(d, &view, nullptr, nullptr), ATOMFP_OK);
    atomfp_descriptor_free(d);
    atomfp_neighbours_free(list);
}

TEST(CApiFrames, ReadsExtendedXyzFrames) {
    const std::string path = std::string(ATOMFP_TEST_DATA) + "/si_sw_sample.extxyz";
    atomfp_frames_t* frames = nullptr;
    ASSERT_EQ(atomfp_frames_read(path.c_str(), &frames), ATOMFP_OK) << atomfp_last_error();
    int64_t n_frames = 0;
    ASSERT_EQ(atomfp_frames_count(frames, &n_frames), ATOMFP_OK);

    // An independent count of the frames and of the first frame's first atom, read as plain text.
    std::ifstream file(path);
    std::string line;
    int64_t counted = 0;
    std::vector<std::string> first_frame;
    while (std::getline(file, line)) {
        const int64_t n = std::stoll(line);
        std::getline(file, line);
        for (int64_t i = 0; i < n; ++i) {
            std::getline(file, line);
            if (counted == 0) first_frame.push_back(line);
        }
        ++counted;
    }
    EXPECT_EQ(n_frames, counted);

    int64_t n_atoms = 0;
    const double* positions = nullptr;
    const int32_t* species = nullptr;
    const double* cell = nullptr;
    const int32_t* pbc = nullptr;
    ASSERT_EQ(atomfp_frames_get(frames, 0, &n_atoms, &positions, &species, &cell, &pbc), ATOMFP_OK);
    ASSERT_EQ(n_atoms, static_cast<int64_t>(first_frame.size()));
    std::istringstream atom(first_frame[0]);
    std::string symbol;
    double x = 0, y = 0, z = 0;
    atom >> symbol >> x >> y >> z;
    EXPECT_EQ(symbol, "Si");
    EXPECT_EQ(species[0], 14);
    EXPECT_EQ(positions[0], x);
    EXPECT_EQ(positions[1], y);
    EXPECT_EQ(positions[2], z);
    ASSERT_NE(cell, nullptr);
    EXPECT_GT(cell[0], 5.0);
    EXPECT_EQ(pbc[0] + pbc[1] + pbc[2], 3);
    EXPECT_EQ(atomfp_frames_get(frames, n_frames - 1, nullptr, nullptr, nullptr, nullptr, nullptr), ATOMFP_OK);

    EXPECT_EQ(atomfp_frames_get(frames, n_frames, &n_atoms, nullptr, nullptr, nullptr, nullptr),
              ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(atomfp_last_error()).find("out of range"), std::string::npos);
    EXPECT_EQ(atomfp_frames_get(frames, -1, &n_atoms, nullptr, nullptr, nullptr, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_frames_count(frames, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_frames_count(nullptr, &n_frames), ATOMFP_ERROR_INVALID_ARGUMENT);
    atomfp_frames_free(frames);
}

TEST(CApiFrames, BadFilesAreStatusesNotCrashes) {
    atomfp_frames_t* frames = nullptr;
    EXPECT_EQ(atomfp_frames_read("/nonexistent/frames.extxyz", &frames), ATOMFP_ERROR_IO);
    EXPECT_EQ(frames, nullptr);
    EXPECT_EQ(atomfp_frames_read(nullptr, &frames), ATOMFP_ERROR_INVALID_ARGUMENT);
    const std::string path = ::testing::TempDir() + "atomfp_malformed.extxyz";
    {
        std::ofstream out(path);
        out << "3\nLattice=\"1 0 0 0 1 0 0 0 1\"\nSi 0 0 0\nSi 0.5 nan-ish 0\n";
    }
    EXPECT_EQ(atomfp_frames_read(path.c_str(), &frames), ATOMFP_ERROR_FORMAT);
    EXPECT_NE(std::string(atomfp_last_error()).find("atomfp_malformed.extxyz:4:"), std::string::npos)
        << atomfp_last_error();
    EXPECT_EQ(frames, nullptr);
    atomfp_frames_free(nullptr);
}

TEST(CApiFeatureSpace, CompareAndSelect) {
    // b = a Q for an orthogonal Q (a rotation in the first two features): nothing lost, nothing distorted
    const int64_t n = 60, m = 3;
    std::vector<double> a(n * m), b(n * m), c(n * 1);
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t k = 0; k < m; ++k) a[i * m + k] = std::sin(1.3 * i + 2.1 * k) + 0.1 * k * std::cos(0.7 * i);
        const double angle = 0.6;
        b[i * m + 0] = std::cos(angle) * a[i * m + 0] - std::sin(angle) * a[i * m + 1];
        b[i * m + 1] = std::sin(angle) * a[i * m + 0] + std::cos(angle) * a[i * m + 1];
        b[i * m + 2] = a[i * m + 2];
        c[i] = a[i * m + 0];  // one of three features
    }
    double gfre[2] = {-1, -1}, gfrd[2] = {-1, -1}, lfre[2] = {-1, -1};
    int64_t n_test = 0;
    ASSERT_EQ(atomfp_feature_space_compare(n, m, a.data(), m, b.data(), nullptr, nullptr, nullptr, nullptr, nullptr, &n_test),
              ATOMFP_OK);
    EXPECT_EQ(n_test, n / 2);
    std::vector<double> pointwise(2 * n_test);
    ASSERT_EQ(atomfp_feature_space_compare(n, m, a.data(), m, b.data(), "{\"lfre_neighbours\": 10}", gfre, gfrd, lfre,
                                           pointwise.data(), &n_test),
              ATOMFP_OK)
        << atomfp_last_error();
    for (int k = 0; k < 2; ++k) {
        EXPECT_LT(gfre[k], 1e-10);
        EXPECT_LT(gfrd[k], 1e-10);
        EXPECT_LT(lfre[k], 1e-8);
    }
    ASSERT_EQ(atomfp_feature_space_compare(n, m, a.data(), 1, c.data(), nullptr, gfre, nullptr, nullptr, pointwise.data(),
                                           &n_test),
              ATOMFP_OK);
    EXPECT_LT(gfre[0], 1e-10);  // three features give the first back
    EXPECT_GT(gfre[1], 0.3);    // one feature does not give three
    double mean_square = 0;
    for (int64_t i = 0; i < n_test; ++i) mean_square += pointwise[n_test + i] * pointwise[n_test + i] / n_test;
    EXPECT_NEAR(std::sqrt(mean_square), gfre[1], 1e-12);

    std::vector<int64_t> selected(3, -1);
    int64_t n_selected = 0;
    ASSERT_EQ(atomfp_feature_select(n, m, a.data(), "cur", 3, selected.data(), &n_selected), ATOMFP_OK);
    EXPECT_EQ(n_selected, 3);
    std::sort(selected.begin(), selected.end());
    EXPECT_EQ(selected, (std::vector<int64_t>{0, 1, 2}));
    ASSERT_EQ(atomfp_feature_select(n, m, a.data(), "fps_samples", 3, selected.data(), &n_selected), ATOMFP_OK);
    EXPECT_EQ(n_selected, 3);

    // bad input: a status and a message, outputs untouched
    gfre[0] = 42;
    EXPECT_EQ(atomfp_feature_space_compare(3, m, a.data(), m, b.data(), nullptr, gfre, nullptr, nullptr, nullptr, nullptr),
              ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(atomfp_last_error()).find("at least 4 samples"), std::string::npos);
    EXPECT_EQ(gfre[0], 42);
    EXPECT_EQ(atomfp_feature_space_compare(n, m, nullptr, m, b.data(), nullptr, gfre, nullptr, nullptr, nullptr, nullptr),
              ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_feature_space_compare(n, m, a.data(), m, b.data(), "{\"sed\": 3}", gfre, nullptr, nullptr, nullptr,
                                           nullptr),
              ATOMFP_ERROR_JSON);
    EXPECT_NE(std::string(atomfp_last_error()).find("sed"), std::string::npos);
    std::vector<double> with_nan = a;
    with_nan[7] = NAN;
    EXPECT_EQ(atomfp_feature_space_compare(n, m, with_nan.data(), m, b.data(), nullptr, gfre, nullptr, nullptr, nullptr,
                                           nullptr),
              ATOMFP_ERROR_INVALID_ARGUMENT);
    std::vector<double> constant(n * m, 2.0);
    EXPECT_EQ(atomfp_feature_space_compare(n, m, a.data(), m, constant.data(), nullptr, gfre, nullptr, nullptr, nullptr,
                                           nullptr),
              ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(atomfp_last_error()).find("constant"), std::string::npos);
    EXPECT_EQ(atomfp_feature_select(n, m, a.data(), "random", 2, selected.data(), &n_selected), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_feature_select(n, m, a.data(), "cur", 4, selected.data(), &n_selected), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_feature_select(n, m, a.data(), "cur", 2, nullptr, &n_selected), ATOMFP_ERROR_INVALID_ARGUMENT);
}

// The type list names every type the factory accepts; each entry's parameters create a descriptor
// whose canonical form is those parameters again. Buffer sizes follow the string convention.
TEST(CApiDescriptor, TypesListsEveryTypeWithItsKeys) {
    int64_t length = 0;
    EXPECT_EQ(atomfp_descriptor_types(nullptr, 0, &length), ATOMFP_ERROR_BUFFER_TOO_SMALL);
    ASSERT_GT(length, 1);
    std::vector<char> text(static_cast<std::size_t>(length), '#');
    EXPECT_EQ(atomfp_descriptor_types(text.data(), length - 1, nullptr), ATOMFP_ERROR_BUFFER_TOO_SMALL);
    EXPECT_EQ(text[0], '#');  // untouched on failure
    EXPECT_EQ(atomfp_descriptor_types(nullptr, 10, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_descriptor_types(text.data(), -1, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    ASSERT_EQ(atomfp_descriptor_types(text.data(), length, nullptr), ATOMFP_OK);
    const nlohmann::json types = nlohmann::json::parse(text.data());
    ASSERT_TRUE(types.is_array());
    std::vector<std::string> names;
    for (const nlohmann::json& entry : types) {
        const std::string name = entry.at("type");
        names.push_back(name);
        EXPECT_FALSE(entry.at("summary").get<std::string>().empty()) << name;
        const std::string parameters = entry.at("parameters").dump();
        atomfp_descriptor_t* d = nullptr;
        ASSERT_EQ(atomfp_descriptor_create(parameters.c_str(), &d), ATOMFP_OK) << name << ": " << atomfp_last_error();
        std::vector<char> canonical(1 << 16);
        ASSERT_EQ(atomfp_descriptor_parameters(d, canonical.data(), 1 << 16, nullptr), ATOMFP_OK);
        EXPECT_EQ(nlohmann::json::parse(canonical.data()), entry.at("parameters")) << name;
        EXPECT_EQ(entry.at("parameters").at("type"), name);
        atomfp_descriptor_free(d);
    }
    // An unknown type's error names the known ones: exactly the listed types.
    atomfp_descriptor_t* d = nullptr;
    ASSERT_EQ(atomfp_descriptor_create(R"({"type": "no_such_type"})", &d), ATOMFP_ERROR_JSON);
    const std::string message = atomfp_last_error();
    for (const std::string& name : names) EXPECT_NE(message.find("\"" + name + "\""), std::string::npos) << name;
    EXPECT_EQ(names.size(), 8u);
}

// A misspelt key is named with the nearest key the type knows (a few edits away), nothing else.
TEST(CApiDescriptor, UnknownKeysSuggestTheNearestKnownKey) {
    const std::pair<const char*, const char*> cases[] = {
        {R"({"type": "acsf", "species": [14], "cutof": 5})", "unknown key 'cutof' (did you mean 'cutoff'?)"},
        {R"({"type": "soap_power_spectrum", "species": [14], "max_radail": 5})", "(did you mean 'max_radial'?)"},
        {R"({"type": "soap_power_spectrum", "species": [14], "atomic_gausian_width": 0.3})",
         "(did you mean 'atomic_gaussian_width'?)"},
    };
    for (const auto& [spec, expected] : cases) {
        atomfp_descriptor_t* d = nullptr;
        ASSERT_EQ(atomfp_descriptor_create(spec, &d), ATOMFP_ERROR_JSON) << spec;
        EXPECT_NE(std::string(atomfp_last_error()).find(expected), std::string::npos) << atomfp_last_error();
    }
    atomfp_descriptor_t* d = nullptr;
    ASSERT_EQ(atomfp_descriptor_create(R"({"type": "acsf", "species": [14], "zzzzzz": 5})", &d), ATOMFP_ERROR_JSON);
    EXPECT_EQ(std::string(atomfp_last_error()).find("did you mean"), std::string::npos) << atomfp_last_error();
}
