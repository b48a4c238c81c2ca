#include "models/model_file.hpp"

#include "atomfp_version.h"
#include "core/error.hpp"
#include "core/json_spec.hpp"
#include "io/atomic_output.hpp"
#include "io/input_file.hpp"

#include <cstring>
#include <limits>
#include <fstream>
#include <sstream>

namespace atomfp {

namespace {

constexpr char magic[8] = {'A', 'T', 'O', 'M', 'F', 'P', 'M', '\0'};
constexpr std::size_t fixed_header = 8 + 4 + 4 + 8;

uint64_t fnv1a(const std::string& bytes, std::size_t length) {
    uint64_t hash = 14695981039346656037ull;
    for (std::size_t k = 0; k < length; ++k) {
        hash ^= static_cast<unsigned char>(bytes[k]);
        hash *= 1099511628211ull;
    }
    return hash;
}

void put_u64(std::string& out, uint64_t value) {
    for (int k = 0; k < 8; ++k) out.push_back(static_cast<char>((value >> (8 * k)) & 0xff));
}

void put_u32(std::string& out, uint32_t value) {
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<char>((value >> (8 * k)) & 0xff));
}

void put_f64(std::string& out, double value) {
    uint64_t bits;
    std::memcpy(&bits, &value, 8);
    put_u64(out, bits);
}

// Sequential little-endian reads with bounds checks that name what was being read.
class Reader {
public:
    Reader(const std::string& bytes, std::size_t end, const std::string& source) : bytes_(bytes), end_(end), source_(source) {}

    uint64_t u64(const char* what) {
        need(8, what);
        uint64_t value = 0;
        for (int k = 0; k < 8; ++k) value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes_[at_ + k])) << (8 * k);
        at_ += 8;
        return value;
    }
    uint32_t u32(const char* what) {
        need(4, what);
        uint32_t value = 0;
        for (int k = 0; k < 4; ++k) value |= static_cast<uint32_t>(static_cast<unsigned char>(bytes_[at_ + k])) << (8 * k);
        at_ += 4;
        return value;
    }
    double f64(const char* what) {
        const uint64_t bits = u64(what);
        double value;
        std::memcpy(&value, &bits, 8);
        return value;
    }
    std::string text(uint64_t length, const char* what) {
        need(length, what);
        std::string out = bytes_.substr(at_, length);
        at_ += length;
        return out;
    }
    void need(uint64_t length, const char* what) const {
        if (length > end_ - at_) fail(Status::format, source_, ": truncated model file (", what, " missing at byte ", at_, ")");
    }
    std::size_t position() const { return at_; }

private:
    const std::string& bytes_;
    std::size_t end_, at_ = 0;
    const std::string& source_;
};

}  // namespace

uint32_t model_file_version_of(const Model& model) {
    if (model.covariance() || model.has_feature_ranges()) return 3;
    return model.repulsion() ? 2 : 1;
}

json model_header(const Model& model) {
    json header = {{"format", "atomfp model"},
                   {"version", model_file_version_of(model)},
                   {"descriptor", model.descriptor().parameters()},
                   {"kernel", model.kernel().to_json()},
                   {"units", {{"energy", "eV"}, {"length", "Å"}}},
                   {"n_features", model.descriptor().feature_count()},
                   {"blocks", json::array()},
                   {"metadata", model.metadata()}};
    for (const SpeciesWeights& b : model.blocks()) {
        header["blocks"].push_back({{"species", b.species}, {"baseline", b.baseline}, {"n_references", b.weights.size()}});
    }
    if (model.repulsion()) header["repulsion"] = model.repulsion()->to_json();
    if (model.covariance()) {
        header["variance"] = {{"approximation", "projected process"}, {"scale", model.covariance()->scale()}};
    }
    if (model.has_feature_ranges()) header["feature_ranges"] = true;
    return header;
}

std::string serialize_model(const Model& model) {
    json header = model_header(model);
    header["created_by"] = std::string("atomfp ") + ATOMFP_VERSION_STRING;
    const std::string text = header.dump();
    std::string out(magic, magic + 8);
    put_u32(out, model_file_version_of(model));
    put_u32(out, 0);
    put_u64(out, text.size());
    out += text;
    for (const SpeciesWeights& b : model.blocks()) {
        for (double x : b.references) put_f64(out, x);
        for (double x : b.weights) put_f64(out, x);
    }
    if (const PosteriorCovariance* covariance = model.covariance()) {
        // Packed triangles, row by row: each block's L (lower), then R (upper).
        for (std::size_t b = 0; b < covariance->n_blocks(); ++b) {
            const int64_t m = covariance->block_size(b);
            const std::vector<double>& L = covariance->prior_factor(b);
            for (int64_t i = 0; i < m; ++i)
                for (int64_t j = 0; j <= i; ++j) put_f64(out, L[i * m + j]);
        }
        const int64_t M = covariance->size();
        const std::vector<double>& R = covariance->weight_factor();
        for (int64_t i = 0; i < M; ++i)
            for (int64_t j = i; j < M; ++j) put_f64(out, R[i * M + j]);
    }
    if (model.has_feature_ranges()) {
        // Per block with references: its n_features minima, then its maxima.
        for (const SpeciesWeights& b : model.blocks()) {
            for (double x : b.feature_min) put_f64(out, x);
            for (double x : b.feature_max) put_f64(out, x);
        }
    }
    put_u64(out, fnv1a(out, out.size()));
    return out;
}

Model deserialize_model(const std::string& bytes, const std::string& source) {
    if (bytes.size() < 8 || std::memcmp(bytes.data(), magic, 8) != 0) {
        fail(Status::format, source, ": not an atomfp model file (the first bytes are not \"ATOMFPM\")");
    }
    Reader prefix(bytes, bytes.size(), source);
    prefix.text(8, "magic");
    const uint32_t version = prefix.u32("format version");
    if (version == 0 || version > model_file_version) {
        fail(Status::format, source, ": model file format version ", version, " is not one this library reads (1 ... ",
             model_file_version, "); it was written by a newer atomfp");
    }
    if (bytes.size() < fixed_header + 8) fail(Status::format, source, ": truncated model file (", bytes.size(), " bytes)");
    // The checksum covers everything before it, so any truncation or corruption after the version
    // is caught here, before a single length from the file is trusted.
    const std::size_t body = bytes.size() - 8;
    Reader tail(bytes, bytes.size(), source);
    tail.text(body, "body");
    if (tail.u64("checksum") != fnv1a(bytes, body)) {
        fail(Status::format, source, ": model file checksum mismatch (the file is truncated or corrupted)");
    }
    Reader r(bytes, body, source);
    r.text(8 + 4, "magic");
    if (r.u32("reserved") != 0) fail(Status::format, source, ": the reserved field of the model file is not 0");
    const uint64_t header_length = r.u64("header length");
    json header;
    try {
        try {
            header = parse_json(r.text(header_length, "header"));
        } catch (const Error& e) {
            fail(Status::format, source, ": malformed model header: ", e.what());
        }
        // The header is read like a specification: its errors become format errors below.
        SpecReader fields(header, "model header");
        if (header.value("format", json()) != "atomfp model" || header.value("version", json()) != version) {
            fail(Status::format, source, ": the model header does not say format \"atomfp model\", version ", version);
        }
        const int64_t nf = fields.integer("n_features", std::nullopt, 1, max_model_features);
        std::vector<SpeciesWeights> blocks;
        const json& block_list = fields.array("blocks");
        for (std::size_t k = 0; k < block_list.size(); ++k) {
            SpecReader entry = fields.element("blocks", k, block_list[k]);
            SpeciesWeights b;
            b.species = static_cast<int32_t>(entry.integer("species", std::nullopt, 1, 118));
            b.baseline = entry.number("baseline");
            // Sizes are checked against the bytes present before anything is allocated, without
            // products that could overflow.
            const uint64_t doubles_left = (body - r.position()) / 8;
            const int64_t m = entry.integer("n_references", std::nullopt, 0, std::numeric_limits<int64_t>::max());
            if (static_cast<uint64_t>(m) > doubles_left / (static_cast<uint64_t>(nf) + 1)) {
                fail(Status::format, source, ": block of species ", b.species, " claims more data than the file holds");
            }
            b.references.resize(static_cast<std::size_t>(m * nf));
            for (double& x : b.references) x = r.f64("reference features");
            b.weights.resize(static_cast<std::size_t>(m));
            for (double& x : b.weights) x = r.f64("weights");
            blocks.push_back(std::move(b));
        }
        std::shared_ptr<const PosteriorCovariance> covariance;
        if (header.contains("variance")) {
            if (version < 3) fail(Status::format, source, ": a version-", version, " model file cannot hold a posterior covariance");
            SpecReader variance(header.at("variance"), "model header.variance");
            variance.string("approximation", std::nullopt, {"projected process"});
            const double scale = variance.number("scale", std::nullopt, 0.0, 1e300, true);
            variance.finish();
            auto read_triangle = [&](int64_t m, bool lower, const char* what) {
                const uint64_t packed = static_cast<uint64_t>(m) * (static_cast<uint64_t>(m) + 1) / 2;
                if (packed > (body - r.position()) / 8) fail(Status::format, source, ": the ", what, " claims more data than the file holds");
                std::vector<double> t(static_cast<std::size_t>(m) * m, 0.0);
                for (int64_t i = 0; i < m; ++i)
                    for (int64_t j = lower ? 0 : i; j < (lower ? i + 1 : m); ++j) t[i * m + j] = r.f64(what);
                return t;
            };
            std::vector<std::vector<double>> prior_factors;
            int64_t M = 0;
            for (const SpeciesWeights& b : blocks) {
                const auto m = static_cast<int64_t>(b.weights.size());
                prior_factors.push_back(read_triangle(m, true, "prior factor"));
                M += m;
            }
            std::vector<double> weight_factor = read_triangle(M, false, "weight factor");
            covariance = std::make_shared<const PosteriorCovariance>(std::move(prior_factors), std::move(weight_factor), scale);
        }
        if (header.contains("feature_ranges")) {
            if (version < 3) fail(Status::format, source, ": a version-", version, " model file cannot hold feature ranges");
            if (header.at("feature_ranges") != true) fail(Status::format, source, ": 'feature_ranges' must be true when present");
            for (SpeciesWeights& b : blocks) {
                if (b.weights.empty()) continue;
                if (static_cast<uint64_t>(2 * nf) > (body - r.position()) / 8) {
                    fail(Status::format, source, ": the feature ranges claim more data than the file holds");
                }
                b.feature_min.resize(static_cast<std::size_t>(nf));
                b.feature_max.resize(static_cast<std::size_t>(nf));
                for (double& x : b.feature_min) x = r.f64("feature minima");
                for (double& x : b.feature_max) x = r.f64("feature maxima");
            }
        }
        if (r.position() != body) fail(Status::format, source, ": ", body - r.position(), " unexplained bytes after the weights");
        Model model(header.at("descriptor"), Kernel::from_json(header.at("kernel")), std::move(blocks),
                    header.value("metadata", json::object()));
        if (header.contains("repulsion")) {
            if (version < 2) fail(Status::format, source, ": a version-1 model file cannot hold a core repulsion");
            model = std::move(model).with_repulsion(std::make_shared<const CoreRepulsion>(header.at("repulsion"), model.cutoff()));
        }
        if (covariance) model = std::move(model).with_covariance(std::move(covariance));
        if (model.descriptor().feature_count() != nf) {
            fail(Status::format, source, ": the descriptor has ", model.descriptor().feature_count(),
                 " features but the file stores ", nf);
        }
        return model;
    } catch (const json::exception& e) {
        fail(Status::format, source, ": malformed model header: ", e.what());
    } catch (const Error& e) {
        if (e.status() == Status::format) throw;
        fail(Status::format, source, ": invalid model: ", e.what());
    }
}

void save_model(const Model& model, const std::string& path) {
    const std::string bytes = serialize_model(model);
    AtomicOutput file(path);
    file.stream().write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    file.commit();
}

Model load_model(const std::string& path) {
    std::ifstream in = open_input_file(path, "model file", true);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (in.bad()) fail(Status::io, "cannot read model file '", path, "'");
    return deserialize_model(bytes.str(), path);
}

}  // namespace atomfp
