#include "atomfp.h"
#include "cli/options.hpp"
#include "cli/progress.hpp"
#include "core/error.hpp"
#include "core/system.hpp"
#include "descriptors/descriptor.hpp"
#include "descriptors/factory.hpp"
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

struct DescribeOptions {
    std::string spec, input, output, gradients, centres, format = "npy", labels;
};

void write_array(const std::string& path, const std::string& format, const std::vector<int64_t>& shape,
                 const std::vector<double>& data, const std::vector<std::string>& header) {
    if (format == "csv") {
        write_csv(path, shape, data.data(), header);
    } else {
        write_npy(path, shape, data.data());
    }
}

void print_descriptor_types() {
    for (const json& entry : descriptor_types()) {
        std::printf("%s: %s\n  %s\n", entry["type"].get<std::string>().c_str(), entry["summary"].get<std::string>().c_str(),
                    entry["parameters"].dump().c_str());
    }
}

void run_describe(const DescribeOptions& options) {
    const std::string& output = options.output;
    const std::string& format = options.format;
    std::vector<int64_t> wanted;
    if (!options.centres.empty()) wanted = parse_index_list(options.centres, "--centres");
    // Unwritable outputs fail now, not after the computation.
    check_writable(output);
    for (const std::string& path : {options.gradients, options.labels}) {
        if (!path.empty()) check_writable(path);
    }

    const std::unique_ptr<Descriptor> descriptor = create_descriptor(read_text_file(options.spec));
    const int64_t n_features = descriptor->feature_count();
    const double cutoff = descriptor->cutoff();
    std::vector<std::string> labels(n_features);
    for (int64_t f = 0; f < n_features; ++f) labels[f] = descriptor->feature_label(f);

    const std::string& input = options.input;
    const std::vector<Frame> frames = read_extxyz(input);
    const ProgressBar bar("frames");
    const bool progress = frames.size() > 1;
    const bool with_gradients = !options.gradients.empty();
    std::vector<double> features, gradients;
    int64_t n_atoms_total = 0, n_centres_total = 0, n_blocks_total = 0;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const Frame& frame = frames[i];
        const NeighbourList list = neighbours_of(frame, cutoff);
        for (int64_t c : wanted) {
            if (c >= frame.size()) fail(Status::invalid_argument, "--centres asks for atom ", c, " of a ", frame.size(), "-atom frame");
        }
        const std::unique_ptr<CentreView> subset = wanted.empty() ? nullptr : std::make_unique<CentreView>(list.view(), wanted);
        const SystemView system = subset ? subset->view() : list.view();
        const int64_t n_blocks = system.n_gradient_blocks();
        features.resize(features.size() + system.n_centers * n_features);
        if (with_gradients) gradients.resize(gradients.size() + n_blocks * 3 * n_features);
        compute(*descriptor, system, features.data() + n_centres_total * n_features,
                with_gradients ? gradients.data() + n_blocks_total * 3 * n_features : nullptr);
        n_atoms_total += frame.size();
        n_centres_total += system.n_centers;
        n_blocks_total += n_blocks;
        if (progress) bar.show("", static_cast<int64_t>(i + 1), static_cast<int64_t>(frames.size()));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    write_array(output, format, {n_centres_total, n_features}, features, labels);
    if (with_gradients) write_array(options.gradients, format, {n_blocks_total, 3, n_features}, gradients, {});
    if (!options.labels.empty()) {
        std::ofstream out(options.labels);
        if (!out) fail(Status::io, "cannot open '", options.labels, "' for writing");
        for (const auto& label : labels) out << label << '\n';
    }

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
    const std::string type = descriptor->type();
    std::printf("atomfp %s describe\n", atomfp_version_string());
    std::printf("  descriptor  %s, %lld features, cutoff %g Å\n", type.c_str(), static_cast<long long>(n_features), cutoff);
    std::printf("  input       %s: %zu frame%s, %lld atoms, %lld centres\n", input.c_str(), frames.size(),
                frames.size() == 1 ? "" : "s", static_cast<long long>(n_atoms_total),
                static_cast<long long>(n_centres_total));
    std::printf("  features    %s [%lld, %lld]; values in [%.6g, %.6g], mean ||F_i|| %.6g\n", output.c_str(),
                static_cast<long long>(n_centres_total), static_cast<long long>(n_features), low, high, norm);
    if (with_gradients) {
        std::printf("  gradients   %s [%lld, 3, %lld]\n", options.gradients.c_str(),
                    static_cast<long long>(n_blocks_total), static_cast<long long>(n_features));
    }
    std::printf("  time        %.3f s (%.0f centres/s)\n", seconds, n_centres_total / std::max(seconds, 1e-9));
}

}  // namespace

Command add_describe(CLI::App& tool) {
    auto options = std::make_shared<DescribeOptions>();
    CLI::App* app = add_command(tool, "describe", "compute descriptors (and gradients) of the structures in an extended XYZ file",
                                "atomfp describe --spec SPEC.json INPUT.extxyz -o FEATURES.npy [options]\n       atomfp describe --list-types",
                                "Computes a descriptor for every selected atom of every frame. Features have shape [total centres\n"
                                "over all frames, n_features] in frame order.");
    add_input(app, options->input, "INPUT", "extended XYZ file of one or more frames");
    add_spec(app, options->spec, "descriptor specification (JSON), e.g. {\"type\": \"acsf\", \"species\": [14]}")->required();
    add_output(app, options->output, "FILE", "the features, shape [centres, n_features]")->required();
    app->add_option("--gradients", options->gradients,
                    "feature gradients, shape [total blocks, 3, n_features]: per centre first\n"
                    "d/d(centre), then d/d(neighbour) for each neighbour of the list that\n"
                    "atomfp_neighbours_build makes (increasing atom index, then image)")
        ->type_name("FILE");
    app->add_option("--centres,--centers", options->centres, "0-based atom indices described in every frame, e.g. 0,4-7\n(default: all)")
        ->type_name("LIST");
    app->add_option("--format", options->format, "file format of the features and gradients")
        ->check(CLI::IsMember({"npy", "csv"}))
        ->capture_default_str();
    app->add_option("--labels", options->labels, "write the feature labels, one per line")->type_name("FILE");
    // Listing the types needs no other option: CLI11 runs flag callbacks before it checks the required
    // options, and this one ends the tool.
    app->add_flag_callback(
        "--list-types",
        [] {
            print_descriptor_types();
            throw CLI::Success();
        },
        "list the descriptor types, each with every key and its default");
    return {app, [options] { run_describe(*options); }};
}

}  // namespace atomfp::cli
