// atomfp compare / select / dims: feature-space reconstruction measures between descriptors, and
// feature selection with its reconstruction curves, on the environments of an extended XYZ file.
#include "analysis/feature_space.hpp"
#include "cli/options.hpp"
#include "cli/svg_plot.hpp"
#include "core/error.hpp"
#include "core/json_spec.hpp"
#include "descriptors/descriptor.hpp"
#include "descriptors/factory.hpp"
#include "io/extxyz.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

namespace atomfp::cli {

namespace {

// The options compare, select and dims share: the descriptors, the data and which environments.
struct FeatureSpaceInputs {
    std::vector<std::string> specs;
    std::string input, output;
    int32_t species = 0;  // 0: every atom
    int64_t max_samples = 2000;
    uint64_t seed = 1;
};

void add_feature_space_inputs(CLI::App* app, FeatureSpaceInputs& inputs, const std::string& spec_help,
                              const std::string& output_help) {
    add_input(app, inputs.input, "DATA", "extended XYZ file of the structures");
    add_specs(app, inputs.specs, spec_help)->required();
    app->add_option("--species", inputs.species, "only centres of this atomic number (default: every atom)")
        ->type_name("Z")
        ->check(CLI::Range(1, 118).description(""));
    app->add_option("--max-samples", inputs.max_samples,
                    "at most N environments, chosen by farthest-point sampling in the first\ndescriptor")
        ->type_name("N")
        ->check(CLI::Range(int64_t{4}, int64_t{1} << 40).description(""))
        ->capture_default_str();
    add_seed(app, inputs.seed, "the 2-fold train/test split");
    add_output(app, inputs.output, "PREFIX", output_help);
}

struct Dataset {
    std::vector<Frame> frames;
    int32_t species = 0;  // 0: every atom
};

// Features of every selected environment of every frame, [environments][features].
FeatureMatrix environment_features(const Descriptor& descriptor, const Dataset& data) {
    FeatureMatrix x;
    x.cols = descriptor.feature_count();
    for (const Frame& frame : data.frames) {
        const NeighbourList list = neighbours_of(frame, descriptor.cutoff());
        std::vector<double> features(static_cast<size_t>(frame.size() * x.cols));
        compute(descriptor, list.view(), features.data(), nullptr);
        for (int64_t i = 0; i < frame.size(); ++i) {
            if (data.species && frame.species[i] != data.species) continue;
            x.values.insert(x.values.end(), features.begin() + i * x.cols, features.begin() + (i + 1) * x.cols);
            ++x.rows;
        }
    }
    if (x.rows == 0) fail(Status::invalid_argument, "no environments", data.species ? " of the chosen species" : "", " in the data");
    return x;
}

// Refuses, before forming anything big, a problem that would not fit in memory: the analyses keep a
// few copies of each feature matrix plus SVD work space.
void check_memory(int64_t samples, int64_t features) {
    const double bytes = 8.0 * static_cast<double>(samples) * static_cast<double>(features);
    const double available = static_cast<double>(sysconf(_SC_AVPHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
    std::printf("  largest feature matrix: %lld x %lld (%.1f MB); about 8 copies are formed\n",
                static_cast<long long>(samples), static_cast<long long>(features), bytes / 1e6);
    if (available > 0 && 8 * bytes > available) {
        fail(Status::out_of_memory, "the analysis would need about ", 8 * bytes / 1e9, " GB but ", available / 1e9,
             " GB are available: use --max-samples or --species to reduce it");
    }
}

struct Prepared {
    std::vector<std::unique_ptr<Descriptor>> descriptors;
    std::vector<std::string> names;
    std::vector<FeatureMatrix> features;
};

Prepared prepare(const FeatureSpaceInputs& inputs, size_t n_specs) {
    const std::vector<std::string>& specs = inputs.specs;
    if (specs.size() != n_specs) {
        fail(Status::invalid_argument, "expected ", n_specs, " --spec option", n_specs > 1 ? "s" : "", ", got ", specs.size());
    }
    Dataset data;
    data.frames = read_extxyz(inputs.input);
    data.species = inputs.species;
    Prepared prepared;
    for (const std::string& path : specs) {
        prepared.descriptors.push_back(create_descriptor(read_text_file(path)));
        prepared.names.push_back(file_stem(path));
        prepared.features.push_back(environment_features(*prepared.descriptors.back(), data));
    }
    const int64_t max_samples = inputs.max_samples;
    int64_t widest = 0;
    for (const FeatureMatrix& f : prepared.features) widest += f.cols;
    if (prepared.features[0].rows > max_samples) {
        // The subset is chosen in the first descriptor's standardised space and used for all.
        const std::vector<int64_t> rows = fps_select_rows(standardized(prepared.features[0], "features"), max_samples);
        for (FeatureMatrix& f : prepared.features) f = select_rows(f, rows);
    }
    std::printf("  %lld environments of %zu structures from %s\n", static_cast<long long>(prepared.features[0].rows),
                data.frames.size(), inputs.input.c_str());
    check_memory(prepared.features[0].rows, widest);
    return prepared;
}

struct CompareOptions {
    FeatureSpaceInputs inputs;
    std::string kernel;
    double gamma = 1.0;
    int64_t lfre_neighbours = 15;
};

struct SelectOptions {
    FeatureSpaceInputs inputs;
    std::string method = "cur";
    int64_t n = 0;
};

struct DimsOptions {
    FeatureSpaceInputs inputs;
    int64_t points = 12;
};

void run_compare(const CompareOptions& inputs) {
    std::printf("atomfp compare\n");
    Prepared p = prepare(inputs.inputs, 2);
    ComparisonOptions options;
    options.seed = inputs.inputs.seed;
    if (!inputs.kernel.empty()) {
        // RKHS features of B (eq 2.12), diagonalised on the same train half the comparison uses
        KernelSettings kernel;
        const std::string& kind = inputs.kernel;
        if (kind == "rbf") {
            kernel.type = InducedKernel::rbf;
        } else if (kind == "polynomial") {
            kernel.type = InducedKernel::polynomial;
        } else if (kind == "linear") {
            kernel.type = InducedKernel::linear;
        }
        kernel.gamma = inputs.gamma;
        const Split split = two_fold_split(p.features[1].rows, options.seed);
        p.features[1] = kernel_features(standardized(p.features[1], p.names[1].c_str()), split.train, kernel);
        char suffix[64];
        std::snprintf(suffix, sizeof suffix, "_%s%g", kind.c_str(), kernel.gamma);
        p.names[1] += suffix;
        std::printf("  %s: %lld kernel features of %s\n", p.names[1].c_str(), static_cast<long long>(p.features[1].cols),
                    inputs.inputs.specs[1].c_str());
    }
    options.lfre_neighbours = inputs.lfre_neighbours;
    const int64_t k = options.lfre_neighbours;
    const TwoWayComparison both = compare_both_ways(p.features[0], p.features[1], options, true);
    struct Direction {
        std::string name;
        Reconstruction global, local;
        double distortion;
    };
    std::vector<Direction> directions;
    for (int a = 0; a < 2; ++a) {
        directions.push_back({p.names[a] + " -> " + p.names[1 - a], both.global[a], both.local[a], both.distortion[a]});
    }
    std::printf("  %-34s %10s %10s %10s %10s %12s\n", "reconstruction", "GFRE", "GFRE train", "GFRD", "LFRE", "cutoff");
    for (const Direction& d : directions) {
        std::printf("  %-34s %10.4f %10.4f %10.4f %10.4f %12.0e\n", d.name.c_str(), d.global.test_error,
                    d.global.train_error, d.distortion, d.local.test_error, d.global.relative_cutoff);
    }
    std::printf("  features: %s %lld, %s %lld\n", p.names[0].c_str(), static_cast<long long>(p.features[0].cols),
                p.names[1].c_str(), static_cast<long long>(p.features[1].cols));
    if (!inputs.inputs.output.empty()) {
        const std::string& prefix = inputs.inputs.output;
        std::ofstream table(prefix + ".csv");
        table << "from,to,n_features_from,n_features_to,gfre,gfre_train,gfrd,lfre,lfre_k,relative_cutoff\n";
        for (int a = 0; a < 2; ++a) {
            const Direction& d = directions[a];
            table << p.names[a] << "," << p.names[1 - a] << "," << p.features[a].cols << "," << p.features[1 - a].cols
                  << "," << d.global.test_error << "," << d.global.train_error << "," << d.distortion << ","
                  << d.local.test_error << "," << k << "," << d.global.relative_cutoff << "\n";
        }
        std::ofstream pointwise(prefix + "_pointwise.csv");
        pointwise << "test_sample,gfre_" << p.names[0] << "_to_" << p.names[1] << ",gfre_" << p.names[1] << "_to_"
                  << p.names[0] << ",lfre_" << p.names[0] << "_to_" << p.names[1] << ",lfre_" << p.names[1] << "_to_"
                  << p.names[0] << "\n";
        for (size_t i = 0; i < directions[0].global.pointwise.size(); ++i) {
            pointwise << i << "," << directions[0].global.pointwise[i] << "," << directions[1].global.pointwise[i] << ","
                      << directions[0].local.pointwise[i] << "," << directions[1].local.pointwise[i] << "\n";
        }
        if (!table || !pointwise) fail(Status::io, "cannot write ", prefix, ".csv or ", prefix, "_pointwise.csv");

        Figure figure;
        figure.title = "feature-space reconstruction: " + p.names[0] + " vs " + p.names[1];
        Panel measures("GFRE, GFRD and LFRE (rows: from -> to)", "", "");
        Heatmap grid;
        grid.x_labels = {"GFRE", "GFRD", "LFRE"};
        grid.log_colour = false;
        for (const Direction& d : directions) {
            grid.y_labels.push_back(d.name);
            grid.values.insert(grid.values.end(), {d.global.test_error, d.distortion, d.local.test_error});
        }
        measures.heatmap.push_back(grid);
        double top = 0;
        for (const Direction& d : directions)
            for (double e : d.global.pointwise) top = std::max(top, e);
        Panel histogram("pointwise GFRE of the test samples (eq 2.17)", "|x'_i - x_i P|", "samples");
        for (const Direction& d : directions) histogram.series.push_back(histogram_series(d.name, d.global.pointwise, 0.0, top * 1.0001, 30, false));
        figure.panels = {measures, histogram};
        figure.columns = 2;
        write_svg(prefix + ".svg", figure);
        std::printf("  wrote %s.csv, %s_pointwise.csv, %s.svg\n", prefix.c_str(), prefix.c_str(), prefix.c_str());
    }
}

void run_select(const SelectOptions& inputs) {
    const std::string& method = inputs.method;
    std::printf("atomfp select\n");
    const Prepared p = prepare(inputs.inputs, 1);
    const FeatureMatrix x = standardized(p.features[0], p.names[0].c_str());
    const int64_t n = inputs.n;
    const std::vector<int64_t> chosen = method == "cur" ? cur_select_columns(x, n) : fps_select_columns(x, n);
    ComparisonOptions options;
    options.seed = inputs.inputs.seed;
    const double error = gfre(select_columns(x, chosen), x, options).test_error;
    std::printf("  %s: %zu of %lld features by %s reconstruct all of them with GFRE %.4f\n", p.names[0].c_str(),
                chosen.size(), static_cast<long long>(x.cols), method.c_str(), error);
    if (chosen.size() < static_cast<size_t>(n)) {
        std::printf("  (CUR stopped at %zu: the features span no more dimensions over these samples)\n", chosen.size());
    }
    if (!inputs.inputs.output.empty()) {
        const std::string path = inputs.inputs.output + "_features.txt";
        std::ofstream out(path);
        out << "# " << method << " selection of " << chosen.size() << " features of " << p.names[0] << "; GFRE " << error
            << "\n# index label\n";
        for (int64_t c : chosen) out << c << " " << p.descriptors[0]->feature_label(c) << "\n";
        if (!out) fail(Status::io, "cannot write ", path);
        // a specification of just these features, usable anywhere a descriptor is
        const json subset = {{"type", "feature_subset"}, {"descriptor", p.descriptors[0]->parameters()}, {"features", chosen}};
        const std::string spec_path = inputs.inputs.output + "_spec.json";
        std::ofstream spec(spec_path);
        spec << subset.dump(2) << "\n";
        if (!spec) fail(Status::io, "cannot write ", spec_path);
        std::printf("  wrote %s and %s\n", path.c_str(), spec_path.c_str());
    }
}

void run_dims(const DimsOptions& inputs) {
    std::printf("atomfp dims\n");
    const Prepared p = prepare(inputs.inputs, 1);
    const FeatureMatrix x = standardized(p.features[0], p.names[0].c_str());
    ComparisonOptions options;
    options.seed = inputs.inputs.seed;
    const int64_t points = inputs.points;
    const std::vector<int64_t> cur = cur_select_columns(x, x.cols);
    const std::vector<int64_t> fps = fps_select_columns(x, x.cols);
    const std::vector<double> variance = pca_explained_variance(x);
    std::vector<int64_t> sizes;
    for (int64_t k = 0; k < points; ++k) {
        // geometric steps from 1 to the feature count
        const int64_t n = static_cast<int64_t>(std::llround(std::pow(static_cast<double>(x.cols), k / (points - 1.0))));
        if (sizes.empty() || n > sizes.back()) sizes.push_back(std::min(n, x.cols));
    }
    Series cur_curve, fps_curve, pca_curve;
    cur_curve.label = "CUR";
    fps_curve.label = "FPS";
    pca_curve.label = "PCA (variance left)";
    for (Series* s : {&cur_curve, &fps_curve, &pca_curve}) s->style = Series::Style::line_and_markers;
    std::printf("  %8s %12s %12s %16s\n", "features", "GFRE CUR", "GFRE FPS", "PCA var. left");
    std::string csv = "n_features,gfre_cur,gfre_fps,pca_variance_left\n";
    for (int64_t n : sizes) {
        const auto prefix = [&](const std::vector<int64_t>& order) {
            return std::vector<int64_t>(order.begin(), order.begin() + std::min<int64_t>(n, order.size()));
        };
        const double e_cur = gfre(select_columns(x, prefix(cur)), x, options).test_error;
        const double e_fps = gfre(select_columns(x, prefix(fps)), x, options).test_error;
        double left = 0;
        for (size_t k = static_cast<size_t>(n); k < variance.size(); ++k) left += variance[k];
        std::printf("  %8lld %12.4e %12.4e %16.4e\n", static_cast<long long>(n), e_cur, e_fps, left);
        char row[160];
        std::snprintf(row, sizeof row, "%lld,%.9e,%.9e,%.9e\n", static_cast<long long>(n), e_cur, e_fps, left);
        csv += row;
        cur_curve.x.push_back(n);
        cur_curve.y.push_back(e_cur);
        fps_curve.x.push_back(n);
        fps_curve.y.push_back(e_fps);
        pca_curve.x.push_back(n);
        pca_curve.y.push_back(left);
    }
    if (!inputs.inputs.output.empty()) {
        const std::string& prefix = inputs.inputs.output;
        std::ofstream out(prefix + ".csv");
        out << csv;
        if (!out) fail(Status::io, "cannot write ", prefix, ".csv");
        Figure figure;
        figure.title = "dimensionality of " + p.names[0];
        figure.panels = {Panel("reconstruction of all features from the first n selected", "n features",
                               "GFRE / variance fraction left", true, true, false, {cur_curve, fps_curve, pca_curve})};
        write_svg(prefix + ".svg", figure);
        std::printf("  wrote %s.csv and %s.svg\n", prefix.c_str(), prefix.c_str());
    }
}

}  // namespace

Command add_compare(CLI::App& tool) {
    auto options = std::make_shared<CompareOptions>();
    CLI::App* app = add_command(tool, "compare", "feature-space reconstruction (GFRE, GFRD, LFRE) between two descriptors",
                                "atomfp compare --spec A.json --spec B.json DATA.extxyz [options]",
                                "How well each descriptor's features reconstruct the other's over the environments of DATA\n"
                                "(standardised features, 2-fold train/test split, regularisation by inner cross-validation):\n"
                                "GFRE (global reconstruction error), GFRD (distortion), LFRE (local, k-neighbourhood) in both\n"
                                "directions (Goscinski et al. 2021).");
    add_feature_space_inputs(app, options->inputs, "a descriptor specification (JSON), given twice",
                             "writes PREFIX.csv (the measures), PREFIX_pointwise.csv and\nPREFIX.svg");
    app->add_option("--k", options->lfre_neighbours, "LFRE neighbourhood size")
        ->type_name("N")
        ->check(CLI::PositiveNumber.description(""))
        ->capture_default_str();
    app->add_option("--kernel", options->kernel,
                    "compare with the features B induces through a kernel instead of B itself:\n"
                    "rbf (exp(-gamma |x - x'|^2)), polynomial ((1 + gamma x.x')^2) or linear,\n"
                    "on standardised B, the eigenvectors with 99 % of the train-set kernel's trace")
        ->type_name("KIND")
        ->check(CLI::IsMember({"rbf", "polynomial", "linear"}));
    app->add_option("--gamma", options->gamma, "kernel parameter")->type_name("G")->check(finite_number())->capture_default_str();
    return {app, [options] { run_compare(*options); }};
}

Command add_select(CLI::App& tool) {
    auto options = std::make_shared<SelectOptions>();
    CLI::App* app = add_command(tool, "select", "choose features of a descriptor by CUR or farthest-point sampling",
                                "atomfp select --spec A.json DATA.extxyz --method cur|fps --n N [-o PREFIX] [options]",
                                "Chooses N features of a descriptor over the environments of DATA, by deterministic CUR or by\n"
                                "farthest-point sampling of the feature columns, and reports how well they reconstruct all the\n"
                                "features (GFRE).");
    add_feature_space_inputs(app, options->inputs, "a descriptor specification (JSON)",
                             "writes the selected 0-based indices and their labels to\n"
                             "PREFIX_features.txt and a descriptor specification of just those features\n"
                             "(\"type\": \"feature_subset\") to PREFIX_spec.json");
    app->add_option("--method", options->method, "cur or fps")->check(CLI::IsMember({"cur", "fps"}))->capture_default_str();
    app->add_option("--n", options->n, "number of features to choose")->type_name("N")->check(CLI::PositiveNumber.description(""))->required();
    return {app, [options] { run_select(*options); }};
}

Command add_dims(CLI::App& tool) {
    auto options = std::make_shared<DimsOptions>();
    CLI::App* app = add_command(tool, "dims", "reconstruction and PCA curves against the number of features",
                                "atomfp dims --spec A.json DATA.extxyz [-o PREFIX] [--points N] [options]",
                                "Dimensionality of a descriptor over the environments of DATA: the reconstruction error of all\n"
                                "features from the first n CUR- and FPS-selected features, and the variance left outside the\n"
                                "first n principal components, for n up to the feature count.");
    add_feature_space_inputs(app, options->inputs, "a descriptor specification (JSON)", "writes PREFIX.csv and PREFIX.svg");
    app->add_option("--points", options->points, "number of feature counts on the curves")
        ->type_name("N")
        ->check(CLI::Range(int64_t{2}, int64_t{100000}).description(""))
        ->capture_default_str();
    return {app, [options] { run_dims(*options); }};
}

}  // namespace atomfp::cli
