// Model files: save -> load -> predict is bit-identical; the byte layout is the documented one;
// every truncation, corruption, future version or malformed header is a format error, never a crash.
#include "atomfp.h"
#include "core/error.hpp"
#include "descriptors/factory.hpp"
#include "models/model_file.hpp"
#include "structures.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <functional>
#include <random>

using namespace atomfp;
using namespace atomfp::test;

namespace {

Model small_model(int references_per_species) {
    const char* spec = R"({"type": "acsf", "species": [6, 14], "cutoff": 4.0, "preset": "imbalzano2018"})";
    auto d = create_descriptor(spec);
    const int64_t nf = d->feature_count();
    std::mt19937 generator(1);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<SpeciesWeights> blocks;
    for (int32_t z : {14, 6}) {
        SpeciesWeights b;
        b.species = z;
        b.baseline = -100.0 - z;
        for (int m = 0; m < references_per_species; ++m) {
            for (int64_t f = 0; f < nf; ++f) b.references.push_back(uniform(generator));
            b.weights.push_back(uniform(generator) - 0.5);
        }
        blocks.push_back(std::move(b));
    }
    return Model(parse_json(spec), Kernel::from_json(parse_json(R"({"type": "polynomial", "zeta": 3})")), std::move(blocks),
                 json{{"training", {{"structures", 12}}}});
}

// small_model with a posterior covariance of well-conditioned random triangles and scale 0.7.
Model small_model_with_covariance(int references) {
    std::mt19937 generator(4);
    std::uniform_real_distribution<double> uniform(0.1, 1.0);
    auto triangle = [&](int64_t m, bool lower) {
        std::vector<double> t(m * m, 0.0);
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < m; ++j)
                if (lower ? j <= i : j >= i) t[i * m + j] = (i == j ? 2.0 : 0.0) + uniform(generator) * (i == j ? 1.0 : 0.1);
        return t;
    };
    auto covariance = std::make_shared<const PosteriorCovariance>(
        std::vector<std::vector<double>>{triangle(references, true), triangle(references, true)}, triangle(2 * references, false), 0.7);
    return small_model(references).with_covariance(covariance);
}

// FNV-1a 64, written out again from its definition.
uint64_t fnv(const std::string& s, std::size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (std::size_t k = 0; k < n; ++k) h = (h ^ static_cast<unsigned char>(s[k])) * 0x100000001b3ull;
    return h;
}

std::string with_checksum(std::string body) {
    const uint64_t h = fnv(body, body.size());
    for (int k = 0; k < 8; ++k) body.push_back(static_cast<char>((h >> (8 * k)) & 0xff));
    return body;
}

Status status_of(const std::string& bytes) {
    try {
        deserialize_model(bytes, "test.afp");
    } catch (const Error& e) {
        return e.status();
    }
    return Status::ok;
}

std::string message_of(const std::string& bytes) {
    try {
        deserialize_model(bytes, "test.afp");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(ModelFile, SaveLoadPredictIsBitIdentical) {
    const Model model = small_model(5);
    const std::string path = std::string(::testing::TempDir()) + "atomfp_model_test.afp";
    save_model(model, path);
    const Model loaded = load_model(path);
    std::remove(path.c_str());
    Structure s = diamond(1, 5.431, 0.1, 2);
    s.species[3] = 6;
    const NeighbourList list = neighbour_list(s, model.cutoff());
    double e1, e2, w1[9], w2[9];
    std::vector<double> f1(3 * s.size()), f2(3 * s.size());
    model.predict(list.view(), &e1, nullptr, f1.data(), w1);
    loaded.predict(list.view(), &e2, nullptr, f2.data(), w2);
    EXPECT_EQ(e1, e2);
    EXPECT_EQ(f1, f2);
    EXPECT_EQ(0, std::memcmp(w1, w2, sizeof w1));
    EXPECT_EQ(loaded.metadata(), model.metadata());
    EXPECT_EQ(loaded.descriptor().parameters(), model.descriptor().parameters());
    EXPECT_EQ(serialize_model(loaded), serialize_model(model));
}

TEST(ModelFile, LayoutIsTheDocumentedOne) {
    const Model model = small_model(2);
    const std::string bytes = serialize_model(model);
    ASSERT_EQ(std::string(bytes.data(), 8), std::string("ATOMFPM\0", 8));
    EXPECT_EQ(static_cast<unsigned char>(bytes[8]), 1);  // version 1, little-endian
    EXPECT_EQ(bytes[9] | bytes[10] | bytes[11], 0);
    uint64_t header_length = 0;
    for (int k = 0; k < 8; ++k) header_length |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[16 + k])) << (8 * k);
    const json header = json::parse(bytes.substr(24, header_length));
    EXPECT_EQ(header.at("format"), "atomfp model");
    EXPECT_EQ(header.at("units").at("energy"), "eV");
    const int64_t nf = header.at("n_features");
    // header + 2 blocks x (2 references x nf + 2 weights) doubles + checksum
    EXPECT_EQ(bytes.size(), 24 + header_length + 2 * (2 * nf + 2) * 8 + 8);
    // The first stored weight, little-endian, is the first weight of the first block.
    double first_weight;
    uint64_t bits = 0;
    const std::size_t at = 24 + header_length + 2 * nf * 8;
    for (int k = 0; k < 8; ++k) bits |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[at + k])) << (8 * k);
    std::memcpy(&first_weight, &bits, 8);
    EXPECT_EQ(first_weight, model.blocks()[0].weights[0]);
    EXPECT_EQ(bytes, with_checksum(bytes.substr(0, bytes.size() - 8)));
}

TEST(ModelFile, EveryTruncationAndCorruptionIsAFormatError) {
    const std::string bytes = serialize_model(small_model(1));
    for (std::size_t n = 0; n < bytes.size(); ++n) ASSERT_EQ(status_of(bytes.substr(0, n)), Status::format) << n;
    for (std::size_t k = 0; k < bytes.size(); k += 7) {
        std::string corrupted = bytes;
        corrupted[k] = static_cast<char>(corrupted[k] ^ 0x10);
        ASSERT_EQ(status_of(corrupted), Status::format) << k;
    }
    EXPECT_NE(message_of(bytes.substr(0, bytes.size() / 2)).find("checksum"), std::string::npos);
    EXPECT_NE(message_of("PK\3\4 a zip file").find("not an atomfp model file"), std::string::npos);
}

TEST(ModelFile, FutureVersionsAndMalformedHeadersAreRefusedClearly) {
    const std::string bytes = serialize_model(small_model(1));
    std::string future = bytes.substr(0, bytes.size() - 8);
    future[8] = 4;
    EXPECT_NE(message_of(with_checksum(future)).find("newer atomfp"), std::string::npos);

    // Intact checksums around broken content: the parser itself must refuse.
    auto forged = [](const std::string& header_text, const std::string& payload) {
        std::string body("ATOMFPM\0", 8);
        body += std::string("\1\0\0\0\0\0\0\0", 8);
        const uint64_t n = header_text.size();
        for (int k = 0; k < 8; ++k) body.push_back(static_cast<char>((n >> (8 * k)) & 0xff));
        return with_checksum(body + header_text + payload);
    };
    const char* spec = R"("format": "atomfp model", "version": 1, "descriptor": {"type": "acsf", "species": [14], "cutoff": 4.0, "preset": "imbalzano2018"}, "kernel": {"type": "linear"})";
    EXPECT_EQ(status_of(forged("{", "")), Status::format);
    EXPECT_EQ(status_of(forged("[]", "")), Status::format);
    EXPECT_EQ(status_of(forged(std::string("{") + spec + R"(, "n_features": 48, "blocks": [{"species": 14, "baseline": 0, "n_references": 1000000000000}]})", "")),
              Status::format);
    EXPECT_EQ(status_of(forged(std::string("{") + spec + R"(, "n_features": 48, "blocks": [{"species": 14, "baseline": 0, "n_references": -1}]})", "")),
              Status::format);
    EXPECT_EQ(status_of(forged(std::string("{") + spec + R"(, "n_features": 47, "blocks": []})", "")), Status::format);
    EXPECT_EQ(status_of(forged(std::string("{") + spec + R"(, "n_features": 48, "blocks": []})", "extra")), Status::format);
    EXPECT_EQ(status_of(forged(R"({"format": "atomfp model", "version": 1, "descriptor": {"type": "nonsense"}, "kernel": {"type": "linear"}, "n_features": 1, "blocks": []})", "")),
              Status::format);
    // Sizes whose products overflow 64 bits: 47059069580741531 x (48 + 1) x 8 wraps to 40 bytes.
    EXPECT_NE(message_of(forged(std::string("{") + spec +
                                R"(, "n_features": 48, "blocks": [{"species": 14, "baseline": 0, "n_references": 47059069580741531}]})",
                                std::string(40, '\0')))
                  .find("claims more data than the file holds"),
              std::string::npos);
    // Non-integer and out-of-range sizes and species, and header fields that do not say what the file is.
    const std::string tail = "}";
    EXPECT_NE(message_of(forged(std::string("{") + spec + R"(, "n_features": 48.0, "blocks": [])" + tail, "")).find("'model header.n_features' must be an integer"),
              std::string::npos);
    EXPECT_NE(message_of(forged(std::string("{") + spec +
                                R"(, "n_features": 48, "blocks": [{"species": 1099511627790, "baseline": 0, "n_references": 0}])" + tail, ""))
                  .find("species' = 1099511627790 is out of range [1, 118]"),
              std::string::npos);
    EXPECT_NE(message_of(forged(std::string("{") + spec +
                                R"(, "n_features": 48, "blocks": [{"species": 14, "baseline": 0, "n_references": 18446744073709551615}])" + tail, ""))
                  .find("n_references' = 18446744073709551615 is out of range"),
              std::string::npos);
    EXPECT_NE(message_of(forged(R"({"format": "x", "version": 1, "descriptor": {"type": "acsf", "species": [14]}, "kernel": {"type": "linear"}, "n_features": 48, "blocks": []})", ""))
                  .find("format \"atomfp model\""),
              std::string::npos);
    EXPECT_NE(message_of(forged(std::string("{") + spec + R"(, "n_features": 48, "blocks": [], "blocks": []})", "")).find("twice"),
              std::string::npos);
    std::string nested = "{\"a\": ";
    for (int k = 0; k < 20000; ++k) nested += "[";
    EXPECT_NE(message_of(forged(nested, "")).find("nested deeper"), std::string::npos);
    {
        std::string reserved = forged(std::string("{") + spec + R"(, "n_features": 48, "blocks": [])" + tail, "");
        reserved = reserved.substr(0, reserved.size() - 8);
        reserved[12] = 1;
        EXPECT_NE(message_of(with_checksum(reserved)).find("reserved"), std::string::npos);
    }
    // A core repulsion needs format version 2.
    EXPECT_NE(message_of(forged(std::string("{") + spec + R"(, "n_features": 48, "blocks": [], "repulsion": {"type": "zbl", "inner": 1, "outer": 2}})", ""))
                  .find("version-1 model file cannot hold a core repulsion"),
              std::string::npos);
    // A well-formed empty model loads.
    EXPECT_EQ(status_of(forged(std::string("{") + spec + R"(, "n_features": 48, "blocks": [])" + tail, "")), Status::ok);
    EXPECT_THROW(load_model("/nonexistent/model.afp"), Error);
}

TEST(ModelFile, CApiLoadsSavesAndPredictsLikeTheLibrary) {
    const Model model = small_model(3);
    const std::string path = std::string(::testing::TempDir()) + "atomfp_capi_model.afp";
    save_model(model, path);
    atomfp_model_t* m = nullptr;
    ASSERT_EQ(atomfp_model_load(path.c_str(), &m), ATOMFP_OK) << atomfp_last_error();
    double cutoff = 0.0;
    EXPECT_EQ(atomfp_model_cutoff(m, &cutoff), ATOMFP_OK);
    EXPECT_EQ(cutoff, 4.0);
    int64_t n_species = -1;
    int32_t species[2] = {0, 0};
    EXPECT_EQ(atomfp_model_species(m, nullptr, 0, &n_species), ATOMFP_ERROR_BUFFER_TOO_SMALL);
    EXPECT_EQ(n_species, 2);
    EXPECT_EQ(atomfp_model_species(m, species, 2, &n_species), ATOMFP_OK);
    EXPECT_EQ(species[0], 14);
    EXPECT_EQ(species[1], 6);

    Structure s = diamond(1, 5.431, 0.1, 2);
    s.species[3] = 6;
    atomfp_neighbours_t* list = nullptr;
    ASSERT_EQ(atomfp_neighbours_build(s.size(), s.positions.data(), s.species.data(), s.cell.data(), nullptr, cutoff, &list), ATOMFP_OK);
    atomfp_system_t system;
    ASSERT_EQ(atomfp_neighbours_system(list, &system), ATOMFP_OK);
    double e_c = 0.0, e_cpp = 0.0, w_c[9], w_cpp[9];
    std::vector<double> f_c(3 * s.size()), f_cpp(3 * s.size()), local(s.size());
    ASSERT_EQ(atomfp_model_predict(m, &system, &e_c, local.data(), f_c.data(), w_c), ATOMFP_OK) << atomfp_last_error();
    const NeighbourList reference = neighbour_list(s, cutoff);
    model.predict(reference.view(), &e_cpp, nullptr, f_cpp.data(), w_cpp);
    EXPECT_NEAR(e_c, e_cpp, 1e-10);  // the two lists order pairs differently: equal to rounding
    for (std::size_t k = 0; k < f_c.size(); ++k) EXPECT_NEAR(f_c[k], f_cpp[k], 1e-10);
    EXPECT_EQ(atomfp_model_predict(m, &system, nullptr, nullptr, nullptr, nullptr), ATOMFP_OK);

    // Bad input: status and message, outputs untouched.
    double untouched = 42.0;
    EXPECT_EQ(atomfp_model_predict(nullptr, &system, &untouched, nullptr, nullptr, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_model_predict(m, nullptr, &untouched, nullptr, nullptr, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    std::vector<int32_t> oxygen = s.species;
    oxygen[0] = 8;
    atomfp_system_t wrong = system;
    wrong.species = oxygen.data();
    EXPECT_EQ(atomfp_model_predict(m, &wrong, &untouched, nullptr, nullptr, nullptr), ATOMFP_ERROR_SPECIES);
    std::vector<double> nan_positions(system.positions, system.positions + 3 * system.n_atoms);
    nan_positions[5] = NAN;
    atomfp_system_t nan_system = system;
    nan_system.positions = nan_positions.data();
    EXPECT_EQ(atomfp_model_predict(m, &nan_system, &untouched, nullptr, nullptr, nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(untouched, 42.0);
    EXPECT_EQ(atomfp_model_cutoff(nullptr, &cutoff), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_model_species(m, species, -1, &n_species), ATOMFP_ERROR_INVALID_ARGUMENT);

    atomfp_model_t* other = nullptr;
    EXPECT_EQ(atomfp_model_load("/nonexistent/model.afp", &other), ATOMFP_ERROR_IO);
    EXPECT_EQ(atomfp_model_load(nullptr, &other), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_model_load(path.c_str(), nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    {
        std::string bytes = serialize_model(model);
        bytes.resize(bytes.size() - 100);
        std::FILE* f = std::fopen(path.c_str(), "wb");
        std::fwrite(bytes.data(), 1, bytes.size(), f);
        std::fclose(f);
    }
    EXPECT_EQ(atomfp_model_load(path.c_str(), &other), ATOMFP_ERROR_FORMAT);
    EXPECT_NE(std::string(atomfp_last_error()).find("checksum"), std::string::npos) << atomfp_last_error();
    EXPECT_EQ(other, nullptr);
    EXPECT_EQ(atomfp_model_save(m, "/nonexistent/dir/model.afp"), ATOMFP_ERROR_IO);
    EXPECT_EQ(atomfp_model_save(m, path.c_str()), ATOMFP_OK);
    ASSERT_EQ(atomfp_model_load(path.c_str(), &other), ATOMFP_OK);
    std::remove(path.c_str());
    atomfp_model_free(other);
    atomfp_model_free(m);
    atomfp_model_free(nullptr);
    atomfp_neighbours_free(list);
}

// A write that fails half-way (here: the file-size limit, as a full disk would) leaves the existing
// file as it was and no temporary file behind; it used to leave a truncated, unloadable model.
TEST(ModelFile, FailedSaveKeepsTheExistingFile) {
    const std::string directory = ::testing::TempDir() + "atomfp_failed_save";
    std::filesystem::remove_all(directory);
    std::filesystem::create_directories(directory);
    const std::string path = directory + "/model.afp";
    const Model small = small_model(1), large = small_model(40);
    save_model(small, path);
    const std::string before = serialize_model(small);

    struct rlimit original {};
    getrlimit(RLIMIT_FSIZE, &original);
    const auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limited = original;
    limited.rlim_cur = before.size() + 16;  // the large model does not fit
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
    Status status = Status::ok;
    try {
        save_model(large, path);
    } catch (const Error& e) {
        status = e.status();
    }
    setrlimit(RLIMIT_FSIZE, &original);
    std::signal(SIGXFSZ, previous_handler);

    EXPECT_EQ(status, Status::io);
    std::ifstream in(path, std::ios::binary);
    const std::string after((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(after, before);
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(directory)) files += entry.is_regular_file();
    EXPECT_EQ(files, 1) << "a temporary file was left behind";
    EXPECT_NO_THROW(load_model(path));
    save_model(large, path);  // and without the limit, the save replaces the file
    EXPECT_EQ(load_model(path).blocks().front().weights.size(), large.blocks().front().weights.size());
    // with the permissions of an ordinary new file
    const mode_t mask = umask(0);
    umask(mask);
    struct stat info {};
    ASSERT_EQ(stat(path.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0666 & ~mask);
    std::filesystem::remove_all(directory);
}

// A model with a posterior covariance is a version-3 file holding the packed triangles after the
// weights; it loads to the same variances bit for bit; a header that promises a covariance the
// version cannot hold, or one without its scale, is refused.
TEST(ModelFile, PosteriorCovarianceRoundTripsAsPackedTriangles) {
    const int references = 3;
    const Model model = small_model_with_covariance(references);
    const int64_t nf = model.descriptor().feature_count();
    const std::string bytes = serialize_model(model);
    EXPECT_EQ(static_cast<unsigned char>(bytes[8]), 3);
    uint64_t header_length = 0;
    for (int k = 0; k < 8; ++k) header_length |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[16 + k])) << (8 * k);
    const json header = json::parse(bytes.substr(24, header_length));
    EXPECT_EQ(header.at("variance"), json::parse(R"({"approximation": "projected process", "scale": 0.7})"));
    const int64_t packed = 2 * references * (references + 1) / 2 + 2 * references * (2 * references + 1) / 2;
    EXPECT_EQ(bytes.size(), 24 + header_length + (2 * (references * nf + references) + packed) * 8 + 8);
    const Model loaded = deserialize_model(bytes, "memory");
    ASSERT_NE(loaded.covariance(), nullptr);
    EXPECT_EQ(loaded.covariance()->scale(), 0.7);
    Structure s = diamond(1, 5.431, 0.1, 2);
    s.species[3] = 6;
    const NeighbourList list = neighbour_list(s, model.cutoff());
    std::vector<double> v1(s.size()), v2(s.size());
    double t1 = 0.0, t2 = 0.0;
    model.predict_variance(list.view(), v1.data(), &t1);
    loaded.predict_variance(list.view(), v2.data(), &t2);
    EXPECT_EQ(v1, v2);
    EXPECT_EQ(t1, t2);
    EXPECT_EQ(serialize_model(loaded), bytes);

    auto with_header = [&](const std::function<void(json&)>& change, int version) {
        json h = header;
        change(h);
        h["version"] = version;
        const std::string text = h.dump();
        std::string out = bytes.substr(0, 8);
        out.push_back(static_cast<char>(version));
        out += std::string(7, '\0');  // the version's other bytes and the reserved field
        for (int k = 0; k < 8; ++k) out.push_back(static_cast<char>((text.size() >> (8 * k)) & 0xff));
        out += text + bytes.substr(24 + header_length, bytes.size() - 8 - 24 - header_length);
        return with_checksum(out);
    };
    EXPECT_EQ(status_of(with_header([](json&) {}, 3)), Status::ok) << message_of(with_header([](json&) {}, 3));
    EXPECT_NE(message_of(with_header([](json&) {}, 2)).find("cannot hold a posterior covariance"), std::string::npos);
    EXPECT_NE(message_of(with_header([](json& h) { h["variance"].erase("scale"); }, 3)).find("scale"), std::string::npos);
    EXPECT_NE(message_of(with_header([](json& h) { h["variance"]["scale"] = -1.0; }, 3)).find("scale"), std::string::npos);
    EXPECT_NE(message_of(with_header([](json& h) { h.erase("variance"); }, 3)).find("unexplained bytes"), std::string::npos);
    // Models without a covariance keep their version.
    EXPECT_EQ(static_cast<unsigned char>(serialize_model(small_model(2))[8]), 1);
}

TEST(ModelFile, CApiPredictsVariancesLikeTheLibraryAndSaysWhenThereAreNone) {
    const Model model = small_model_with_covariance(4);
    const std::string path = std::string(::testing::TempDir()) + "atomfp_capi_variance.afp";
    save_model(model, path);
    atomfp_model_t* m = nullptr;
    ASSERT_EQ(atomfp_model_load(path.c_str(), &m), ATOMFP_OK) << atomfp_last_error();
    std::remove(path.c_str());
    Structure s = diamond(1, 5.431, 0.1, 2);
    s.species[3] = 6;
    const NeighbourList list = neighbour_list(s, model.cutoff());
    const SystemView view = list.view();
    atomfp_system_t system;
    std::memcpy(&system, &view, sizeof system);
    std::vector<double> v_c(s.size()), v_cpp(s.size());
    double t_c = 0.0, t_cpp = 0.0;
    ASSERT_EQ(atomfp_model_predict_variance(m, &system, v_c.data(), &t_c), ATOMFP_OK) << atomfp_last_error();
    model.predict_variance(view, v_cpp.data(), &t_cpp);
    EXPECT_EQ(v_c, v_cpp);
    EXPECT_EQ(t_c, t_cpp);
    EXPECT_EQ(atomfp_model_predict_variance(m, &system, nullptr, nullptr), ATOMFP_OK);
    std::vector<double> coefficients(s.size(), 0.5), g_c(3 * s.size()), g_cpp(3 * s.size());
    double w_c[9], w_cpp[9];
    ASSERT_EQ(atomfp_model_variance_gradient(m, &system, coefficients.data(), g_c.data(), w_c), ATOMFP_OK) << atomfp_last_error();
    model.variance_gradient(view, coefficients.data(), g_cpp.data(), w_cpp);
    EXPECT_EQ(g_c, g_cpp);
    EXPECT_TRUE(std::equal(w_c, w_c + 9, w_cpp));
    std::vector<double> untouched_gradient(3 * s.size(), 42.0);
    EXPECT_EQ(atomfp_model_variance_gradient(nullptr, &system, coefficients.data(), untouched_gradient.data(), nullptr),
              ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_model_variance_gradient(m, nullptr, coefficients.data(), untouched_gradient.data(), nullptr),
              ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_model_variance_gradient(m, &system, nullptr, untouched_gradient.data(), nullptr), ATOMFP_ERROR_INVALID_ARGUMENT);
    coefficients[1] = INFINITY;
    EXPECT_EQ(atomfp_model_variance_gradient(m, &system, coefficients.data(), untouched_gradient.data(), nullptr),
              ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(atomfp_last_error()).find("coefficient"), std::string::npos) << atomfp_last_error();
    coefficients[1] = 0.5;
    EXPECT_EQ(atomfp_model_variance_gradient(m, &system, coefficients.data(), nullptr, nullptr), ATOMFP_OK);
    EXPECT_TRUE(std::all_of(untouched_gradient.begin(), untouched_gradient.end(), [](double g) { return g == 42.0; }));

    double untouched = 42.0;
    EXPECT_EQ(atomfp_model_predict_variance(nullptr, &system, nullptr, &untouched), ATOMFP_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(atomfp_model_predict_variance(m, nullptr, nullptr, &untouched), ATOMFP_ERROR_INVALID_ARGUMENT);
    std::vector<double> nan_positions(system.positions, system.positions + 3 * system.n_atoms);
    nan_positions[2] = NAN;
    atomfp_system_t nan_system = system;
    nan_system.positions = nan_positions.data();
    EXPECT_EQ(atomfp_model_predict_variance(m, &nan_system, nullptr, &untouched), ATOMFP_ERROR_INVALID_ARGUMENT);
    std::vector<int32_t> oxygen = s.species;
    oxygen[1] = 8;
    atomfp_system_t wrong = system;
    wrong.species = oxygen.data();
    EXPECT_EQ(atomfp_model_predict_variance(m, &wrong, nullptr, &untouched), ATOMFP_ERROR_SPECIES);
    EXPECT_EQ(untouched, 42.0);
    atomfp_model_free(m);

    save_model(small_model(4), path);
    ASSERT_EQ(atomfp_model_load(path.c_str(), &m), ATOMFP_OK);
    std::remove(path.c_str());
    EXPECT_EQ(atomfp_model_predict_variance(m, &system, nullptr, &untouched), ATOMFP_ERROR_NOT_AVAILABLE);
    EXPECT_NE(std::string(atomfp_last_error()).find("no posterior covariance"), std::string::npos) << atomfp_last_error();
    EXPECT_EQ(atomfp_model_variance_gradient(m, &system, coefficients.data(), untouched_gradient.data(), nullptr),
              ATOMFP_ERROR_NOT_AVAILABLE);
    EXPECT_EQ(untouched_gradient[0], 42.0);
    EXPECT_STREQ(atomfp_status_name(ATOMFP_ERROR_NOT_AVAILABLE), "ATOMFP_ERROR_NOT_AVAILABLE");
    EXPECT_EQ(untouched, 42.0);
    atomfp_model_free(m);
}
