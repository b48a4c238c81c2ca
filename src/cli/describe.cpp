#include "atomfp.h"
#include "cli/arguments.hpp"
#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "core/error.hpp"
#include "core/json_spec.hpp"
#include "io/atomic_output.hpp"
#include "io/extxyz.hpp"
#include "io/npy.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

namespace atomfp::cli {

namespace {

const char* describe_usage =
    "usage: atomfp describe --spec SPEC.json INPUT.extxyz -o FEATURES.npy [options]\n"
    "\n"
    "Compute a descriptor for every selected atom of every frame of an extended XYZ file.\n"
    "\n"
    "  --spec FILE         descriptor specification (JSON), e.g. {\"type\": \"acsf\", \"species\": [14]}\n"
    "  -o, --output FILE   features, shape [total centres over all frames, n_features], frame order\n"
    "  --gradients FILE    feature gradients, shape [total blocks, 3, n_features]: per centre first\n"
    "                      d/d(centre), then d/d(neighbour) for each neighbour of the list that\n"
    "                      atomfp_neighbours_build makes (increasing atom index, then image)\n"
    "  --centers LIST      0-based atom indices described in every frame, e.g. 0,4-7 (default: all)\n"
    "  --format FORMAT     npy (default) or csv\n"
    "  --labels FILE       write the feature labels, one per line\n"
    "  --quiet             do not print the summary\n"
    "  --help              show this message\n";

void check(atomfp_status_t status) {
    if (status != ATOMFP_OK) throw Error(static_cast<Status>(status), atomfp_last_error());
}

struct DescriptorHandle {
    atomfp_descriptor_t* ptr = nullptr;
    ~DescriptorHandle() { atomfp_descriptor_free(ptr); }
};
struct NeighboursHandle {
    atomfp_neighbours_t* ptr = nullptr;
    ~NeighboursHandle() { atomfp_neighbours_free(ptr); }
};

// The neighbour list restricted to some centres, with the same per-centre pair order.
struct CentreSubset {
    std::vector<int64_t> centers, offsets{0}, neighbours;
    std::vector<int32_t> shifts;

    atomfp_system_t select(const atomfp_system_t& full, const std::vector<int64_t>& wanted) {
        for (int64_t c : wanted) {
            if (c >= full.n_centers) fail(Status::invalid_argument, "--centers asks for atom ", c, " of a ", full.n_atoms, "-atom frame");
            centers.push_back(full.centers[c]);
            for (int64_t p = full.offsets[c]; p < full.offsets[c + 1]; ++p) {
                neighbours.push_back(full.neighbours[p]);
                if (full.cell_shifts) shifts.insert(shifts.end(), full.cell_shifts + 3 * p, full.cell_shifts + 3 * p + 3);
            }
            offsets.push_back(static_cast<int64_t>(neighbours.size()));
        }
        atomfp_system_t view = full;
        view.n_centers = static_cast<int64_t>(centers.size());
        view.centers = centers.data();
        view.offsets = offsets.data();
        view.neighbours = neighbours.data();
        view.cell_shifts = full.cell_shifts ? shifts.data() : nullptr;
        return view;
    }
};

void write_array(const std::string& path, const std::string& format, const std::vector<int64_t>& shape,
                 const std::vector<double>& data, const std::vector<std::string>& header) {
    if (format == "csv") {
        write_csv(path, shape, data.data(), header);
    } else {
        write_npy(path, shape, data.data());
    }
}

}  // namespace

int describe(int argc, char** argv) {
    try {
        Arguments args(argc, argv, {"--spec", "-o", "--output", "--gradients", "--centers", "--format", "--labels"},
                       {"--help", "-h", "--quiet"});
        if (args.flag("--help") || args.flag("-h")) {
            std::fputs(describe_usage, stdout);
            return 0;
        }
        const std::string output = args.has("-o") ? args.value("-o") : args.value("--output");
        if (!args.has("--spec") || output.empty() || args.positional().size() != 1) {
            std::fputs(describe_usage, stderr);
            return 2;
        }
        const std::string format = args.value("--format", "npy");
        if (format != "npy" && format != "csv") fail(Status::invalid_argument, "--format must be npy or csv, got '", format, "'");
        std::vector<int64_t> wanted;
        if (args.has("--centers")) wanted = parse_index_list(args.value("--centers"));
        // Unwritable outputs fail now, not after the computation.
        check_writable(output);
        for (const char* option : {"--gradients", "--labels"}) {
            if (args.has(option)) check_writable(args.value(option));
        }

        DescriptorHandle descriptor;
        check(atomfp_descriptor_create(read_text_file(args.value("--spec")).c_str(), &descriptor.ptr));
        int64_t n_features = 0;
        double cutoff = 0.0;
        check(atomfp_descriptor_feature_count(descriptor.ptr, &n_features));
        check(atomfp_descriptor_cutoff(descriptor.ptr, &cutoff));
        std::vector<std::string> labels(n_features);
        for (int64_t f = 0; f < n_features; ++f) {
            int64_t length = 0;
            atomfp_descriptor_feature_label(descriptor.ptr, f, nullptr, 0, &length);
            std::vector<char> buffer(length);
            check(atomfp_descriptor_feature_label(descriptor.ptr, f, buffer.data(), length, nullptr));
            labels[f] = buffer.data();
        }

        const std::string input = args.positional()[0];
        const std::vector<Frame> frames = read_extxyz(input);
        const ProgressBar bar("frames");
        const bool progress = frames.size() > 1;
        const bool with_gradients = args.has("--gradients");
        std::vector<double> features, gradients;
        int64_t n_atoms_total = 0, n_centres_total = 0, n_blocks_total = 0;
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < frames.size(); ++i) {
            const Frame& frame = frames[i];
            const int32_t pbc[3] = {frame.pbc[0], frame.pbc[1], frame.pbc[2]};
            NeighboursHandle list;
            check(atomfp_neighbours_build(frame.size(), frame.positions.data(), frame.species.data(),
                                          frame.cell ? frame.cell->data() : nullptr, pbc, cutoff, &list.ptr));
            atomfp_system_t system;
            check(atomfp_neighbours_system(list.ptr, &system));
            CentreSubset subset;
            if (!wanted.empty()) system = subset.select(system, wanted);
            const int64_t n_blocks = system.n_centers + system.offsets[system.n_centers];
            features.resize(features.size() + system.n_centers * n_features);
            if (with_gradients) gradients.resize(gradients.size() + n_blocks * 3 * n_features);
            check(atomfp_descriptor_compute(descriptor.ptr, &system,
                                            features.data() + n_centres_total * n_features,
                                            with_gradients ? gradients.data() + n_blocks_total * 3 * n_features : nullptr));
            n_atoms_total += frame.size();
            n_centres_total += system.n_centers;
            n_blocks_total += n_blocks;
            if (progress) bar.show("", static_cast<int64_t>(i + 1), static_cast<int64_t>(frames.size()));
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

        write_array(output, format, {n_centres_total, n_features}, features, labels);
        if (with_gradients) write_array(args.value("--gradients"), format, {n_blocks_total, 3, n_features}, gradients, {});
        if (args.has("--labels")) {
            std::ofstream out(args.value("--labels"));
            if (!out) fail(Status::io, "cannot open '", args.value("--labels"), "' for writing");
            for (const auto& label : labels) out << label << '\n';
        }

        if (!args.flag("--quiet")) {
            std::vector<char> spec(1);
            int64_t length = 0;
            atomfp_descriptor_parameters(descriptor.ptr, nullptr, 0, &length);
            spec.resize(length);
            check(atomfp_descriptor_parameters(descriptor.ptr, spec.data(), length, nullptr));
            double low = 0.0, high = 0.0, norm = 0.0;
            if (!features.empty()) {
                low = *std::min_element(features.begin(), features.end());
                high = *std::max_element(features.begin(), features.end());
            }
            for (int64_t c = 0; c < n_centres_total; ++c) {
                double s = 0.0;
                for (int64_t f = 0; f < n_features; ++f) s += features[c * n_features + f] * features[c * n_features + f];
                norm += std::sqrt(s) / std::max<int64_t>(n_centres_total, 1);
            }
            const std::string type = parse_json(spec.data())["type"];
            std::printf("atomfp %s describe\n", atomfp_version_string());
            std::printf("  descriptor  %s, %lld features, cutoff %g Å\n", type.c_str(), static_cast<long long>(n_features), cutoff);
            std::printf("  input       %s: %zu frame%s, %lld atoms, %lld centres\n", input.c_str(), frames.size(),
                        frames.size() == 1 ? "" : "s", static_cast<long long>(n_atoms_total),
                        static_cast<long long>(n_centres_total));
            std::printf("  features    %s [%lld, %lld]; values in [%.6g, %.6g], mean |F| %.6g\n", output.c_str(),
                        static_cast<long long>(n_centres_total), static_cast<long long>(n_features), low, high, norm);
            if (with_gradients) {
                std::printf("  gradients   %s [%lld, 3, %lld]\n", args.value("--gradients").c_str(),
                            static_cast<long long>(n_blocks_total), static_cast<long long>(n_features));
            }
            std::printf("  time        %.3f s (%.0f centres/s)\n", seconds, n_centres_total / std::max(seconds, 1e-9));
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "atomfp describe: %s\n", e.what());
        return 1;
    }
}

}  // namespace atomfp::cli
