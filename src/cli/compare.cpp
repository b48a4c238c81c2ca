// atomfp compare / select / dims: feature-space reconstruction measures between descriptors, and
// feature selection with its reconstruction curves, on the environments of an extended XYZ file.
#include "analysis/feature_space.hpp"
#include "cli/arguments.hpp"
#include "cli/commands.hpp"
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

const char* compare_usage =
    "usage: atomfp compare --spec A.json --spec B.json DATA.extxyz [options]\n"
    "\n"
    "How well each descriptor's features reconstruct the other's over the environments of DATA\n"
    "(standardised features, 2-fold train/test split, regularisation by inner cross-validation):\n"
    "GFRE (global reconstruction error), GFRD (distortion), LFRE (local, k-neighbourhood) in both\n"
    "directions.\n"
    "\n"
    "  --spec FILE        a descriptor specification (JSON), given twice\n"
    "  --species Z        only centres of this atomic number (default: every atom)\n"
    "  --max-samples N    at most N environments, chosen by farthest-point sampling in A (default 2000)\n"
    "  --k N              LFRE neighbourhood size (default 15)\n"
    "  --seed N           train/test split (default 1)\n"
    "  --kernel KIND      compare with the features B induces through a kernel instead of B itself:\n"
    "                     rbf (exp(-gamma |x - x'|^2)), polynomial ((1 + gamma x.x')^2) or linear,\n"
    "                     on standardised B, the eigenvectors with 99 %% of the train-set kernel's trace\n"
    "  --gamma G          kernel parameter (default 1)\n"
    "  -o PREFIX          write PREFIX.csv (the measures), PREFIX_pointwise.csv and PREFIX.svg\n"
    "  --help             show this message\n";

const char* select_usage =
    "usage: atomfp select --spec A.json DATA.extxyz --method cur|fps --n N [-o PREFIX] [options]\n"
    "\n"
    "Choose N features of a descriptor over the environments of DATA, by deterministic CUR or by\n"
    "farthest-point sampling of the feature columns, and report how well they reconstruct all the\n"
    "features (GFRE). Writes the selected 0-based indices and their labels to PREFIX_features.txt\n"
    "and a descriptor specification of just those features (\"type\": \"feature_subset\") to\n"
    "PREFIX_spec.json.\n"
    "\n"
    "  --species Z, --max-samples N, --seed N   as for 'atomfp compare'\n";

const char* dims_usage =
    "usage: atomfp dims --spec A.json DATA.extxyz [-o PREFIX] [--points N] [options]\n"
    "\n"
    "Dimensionality of a descriptor over the environments of DATA: the reconstruction error of all\n"
    "features from the first n CUR- and FPS-selected features, and the variance left outside the\n"
    "first n principal components, for n up to the feature count (N points, default 12). Writes\n"
    "PREFIX.csv and PREFIX.svg.\n"
    "\n"
    "  --species Z, --max-samples N, --seed N   as for 'atomfp compare'\n";

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

Prepared prepare(const Arguments& args, size_t n_specs) {
    const std::vector<std::string> specs = args.values("--spec");
    if (specs.size() != n_specs) {
        fail(Status::invalid_argument, "expected ", n_specs, " --spec option", n_specs > 1 ? "s" : "", ", got ", specs.size());
    }
    Dataset data;
    data.frames = read_extxyz(args.positional()[0]);
    data.species = static_cast<int32_t>(number_option(args, "--species", 0));
    Prepared prepared;
    for (const std::string& path : specs) {
        prepared.descriptors.push_back(create_descriptor(read_text_file(path)));
        prepared.names.push_back(file_stem(path));
        prepared.features.push_back(environment_features(*prepared.descriptors.back(), data));
    }
    const int64_t max_samples = static_cast<int64_t>(number_option(args, "--max-samples", 2000));
    if (max_samples < 4) fail(Status::invalid_argument, "--max-samples must be at least 4");
    int64_t widest = 0;
    for (const FeatureMatrix& f : prepared.features) widest += f.cols;
    if (prepared.features[0].rows > max_samples) {
        // The subset is chosen in the first descriptor's standardised space and used for all.
        const std::vector<int64_t> rows = fps_select_rows(standardized(prepared.features[0], "features"), max_samples);
        for (FeatureMatrix& f : prepared.features) f = select_rows(f, rows);
    }
    std::printf("  %lld environments of %zu structures from %s\n", static_cast<long long>(prepared.features[0].rows),
                data.frames.size(), args.positional()[0].c_str());
    check_memory(prepared.features[0].rows, widest);
    return prepared;
}

std::vector<double> histogram_counts(const std::vector<double>& values, const std::vector<double>& edges) {
    std::vector<double> counts(edges.size() - 1, 0.0);
    for (double v : values) {
        for (size_t b = 0; b + 1 < edges.size(); ++b)
            if (v >= edges[b] && (v < edges[b + 1] || b + 2 == edges.size())) {
                counts[b] += 1;
                break;
            }
    }
    return counts;
}

bool wants_help(const Arguments& args, const char* usage) {
    if (args.flag("--help") || args.flag("-h")) {
        std::fputs(usage, stdout);
        return true;
    }
    return false;
}

}  // namespace

int compare(int argc, char** argv) {
    try {
        Arguments args(argc, argv, {"--spec", "--species", "--max-samples", "--k", "--seed", "--kernel", "--gamma", "-o"},
                       {"--help", "-h"});
        if (wants_help(args, compare_usage)) return 0;
        if (args.positional().size() != 1) {
            std::fputs(compare_usage, stderr);
            return 2;
        }
        std::printf("atomfp compare\n");
        Prepared p = prepare(args, 2);
        ComparisonOptions options;
        options.seed = static_cast<uint64_t>(number_option(args, "--seed", 1));
        if (args.has("--kernel")) {
            // RKHS features of B (eq 2.12), diagonalised on the same train half the comparison uses
            KernelSettings kernel;
            const std::string kind = args.value("--kernel");
            if (kind == "rbf") {
                kernel.type = InducedKernel::rbf;
            } else if (kind == "polynomial") {
                kernel.type = InducedKernel::polynomial;
            } else if (kind == "linear") {
                kernel.type = InducedKernel::linear;
            } else {
                fail(Status::invalid_argument, "--kernel must be rbf, polynomial or linear, got ", kind);
            }
            kernel.gamma = number_option(args, "--gamma", 1.0);
            const Split split = two_fold_split(p.features[1].rows, options.seed);
            p.features[1] = kernel_features(standardized(p.features[1], p.names[1].c_str()), split.train, kernel);
            char suffix[64];
            std::snprintf(suffix, sizeof suffix, "_%s%g", kind.c_str(), kernel.gamma);
            p.names[1] += suffix;
            std::printf("  %s: %lld kernel features of %s\n", p.names[1].c_str(), static_cast<long long>(p.features[1].cols),
                        args.values("--spec")[1].c_str());
        }
        options.lfre_neighbours = static_cast<int64_t>(number_option(args, "--k", 15));
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
        if (args.has("-o")) {
            const std::string prefix = args.value("-o");
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
            std::vector<double> edges;
            for (int b = 0; b <= 30; ++b) edges.push_back(top * 1.0001 * b / 30);
            Panel histogram("pointwise GFRE of the test samples (eq 2.17)", "|x'_i - x_i P|", "samples");
            for (const Direction& d : directions) {
                Series s;
                s.label = d.name;
                for (size_t b = 0; b + 1 < edges.size(); ++b) s.x.push_back(0.5 * (edges[b] + edges[b + 1]));
                s.y = histogram_counts(d.global.pointwise, edges);
                s.style = Series::Style::line_and_markers;
                histogram.series.push_back(s);
            }
            figure.panels = {measures, histogram};
            figure.columns = 2;
            write_svg(prefix + ".svg", figure);
            std::printf("  wrote %s.csv, %s_pointwise.csv, %s.svg\n", prefix.c_str(), prefix.c_str(), prefix.c_str());
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "atomfp compare: %s\n", e.what());
        return 1;
    }
}

int select(int argc, char** argv) {
    try {
        Arguments args(argc, argv, {"--spec", "--species", "--max-samples", "--seed", "--method", "--n", "-o"},
                       {"--help", "-h"});
        if (wants_help(args, select_usage)) return 0;
        if (args.positional().size() != 1 || !args.has("--n")) {
            std::fputs(select_usage, stderr);
            return 2;
        }
        const std::string method = args.value("--method", "cur");
        if (method != "cur" && method != "fps") fail(Status::invalid_argument, "--method must be cur or fps, got ", method);
        std::printf("atomfp select\n");
        const Prepared p = prepare(args, 1);
        const FeatureMatrix x = standardized(p.features[0], p.names[0].c_str());
        const int64_t n = static_cast<int64_t>(number_option(args, "--n", 0));
        const std::vector<int64_t> chosen = method == "cur" ? cur_select_columns(x, n) : fps_select_columns(x, n);
        ComparisonOptions options;
        options.seed = static_cast<uint64_t>(number_option(args, "--seed", 1));
        const double error = gfre(select_columns(x, chosen), x, options).test_error;
        std::printf("  %s: %zu of %lld features by %s reconstruct all of them with GFRE %.4f\n", p.names[0].c_str(),
                    chosen.size(), static_cast<long long>(x.cols), method.c_str(), error);
        if (chosen.size() < static_cast<size_t>(n)) {
            std::printf("  (CUR stopped at %zu: the features span no more dimensions over these samples)\n", chosen.size());
        }
        if (args.has("-o")) {
            const std::string path = args.value("-o") + "_features.txt";
            std::ofstream out(path);
            out << "# " << method << " selection of " << chosen.size() << " features of " << p.names[0] << "; GFRE " << error
                << "\n# index label\n";
            for (int64_t c : chosen) out << c << " " << p.descriptors[0]->feature_label(c) << "\n";
            if (!out) fail(Status::io, "cannot write ", path);
            // a specification of just these features, usable anywhere a descriptor is
            const json subset = {{"type", "feature_subset"}, {"descriptor", p.descriptors[0]->parameters()}, {"features", chosen}};
            const std::string spec_path = args.value("-o") + "_spec.json";
            std::ofstream spec(spec_path);
            spec << subset.dump(2) << "\n";
            if (!spec) fail(Status::io, "cannot write ", spec_path);
            std::printf("  wrote %s and %s\n", path.c_str(), spec_path.c_str());
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "atomfp select: %s\n", e.what());
        return 1;
    }
}

int dims(int argc, char** argv) {
    try {
        Arguments args(argc, argv, {"--spec", "--species", "--max-samples", "--seed", "--points", "-o"}, {"--help", "-h"});
        if (wants_help(args, dims_usage)) return 0;
        if (args.positional().size() != 1) {
            std::fputs(dims_usage, stderr);
            return 2;
        }
        std::printf("atomfp dims\n");
        const Prepared p = prepare(args, 1);
        const FeatureMatrix x = standardized(p.features[0], p.names[0].c_str());
        ComparisonOptions options;
        options.seed = static_cast<uint64_t>(number_option(args, "--seed", 1));
        const int64_t points = std::max<int64_t>(2, static_cast<int64_t>(number_option(args, "--points", 12)));
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
        if (args.has("-o")) {
            const std::string prefix = args.value("-o");
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
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "atomfp dims: %s\n", e.what());
        return 1;
    }
}

}  // namespace atomfp::cli
