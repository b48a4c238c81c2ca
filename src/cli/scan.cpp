#include "cli/options.hpp"
#include "cli/svg_plot.hpp"
#include "core/error.hpp"
#include "descriptors/factory.hpp"
#include "models/trainer.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace atomfp::cli {

namespace {

struct ScanOptions {
    std::string config, input, output, kernel_values, sigma_values, rank_by = "energy";
    std::vector<std::string> descriptor_axes;
    LabelKeyOptions labels;
    int folds = 5;
    uint64_t seed = 1;
};

std::string label(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", v);
    return buffer;
}

// "1h02m", "3m05s", "12s"
std::string duration(double seconds) {
    char text[32];
    const long s = std::lround(std::max(seconds, 0.0));
    if (s >= 3600) std::snprintf(text, sizeof text, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
    else if (s >= 60) std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
    else std::snprintf(text, sizeof text, "%lds", s);
    return text;
}

// One axis of descriptor values: --descriptor KEY=V1,V2,...
struct DescriptorAxis {
    std::string key;
    std::vector<json> values;
};

DescriptorAxis parse_axis(const std::string& text) {
    const std::size_t equals = text.find('=');
    if (equals == std::string::npos || equals == 0) {
        fail(Status::invalid_argument, "--descriptor '", text, "' is not KEY=V1,V2,... (e.g. cutoff=3.5,4.5)");
    }
    DescriptorAxis axis{text.substr(0, equals), {}};
    const std::string list = text.substr(equals + 1);
    for (double v : parse_number_list(list, "--descriptor " + axis.key)) {
        if (v == std::floor(v) && list.find_first_of(".eE") == std::string::npos) {
            axis.values.push_back(static_cast<int64_t>(v));  // integer keys (max_radial) need integers
        } else {
            axis.values.push_back(v);
        }
    }
    return axis;
}

// One grid point: its descriptor values, kernel parameter and sigma, and the CV errors.
struct GridPoint {
    std::vector<json> descriptor_values;
    ScanPoint point;
};

void run_scan(const ScanOptions& options) {
    TrainingSettings settings = TrainingSettings::parse(parse_json(read_text_file(options.config)));
    options.labels.apply_to(settings.labels);
    const bool linear = settings.kernel.kind() == KernelKind::linear;
    const double own_parameter = linear                                           ? 0.0
                                 : settings.kernel.kind() == KernelKind::polynomial ? settings.kernel.zeta()
                                                                                    : settings.kernel.gamma();
    if (linear && !options.kernel_values.empty()) fail(Status::invalid_argument, "the linear kernel has no parameter for --kernel-values");
    const std::vector<double> kernel_values =
        options.kernel_values.empty() ? std::vector<double>{own_parameter} : parse_number_list(options.kernel_values, "--kernel-values");
    const std::vector<double> sigma_values = options.sigma_values.empty()
                                                 ? std::vector<double>{settings.sigma_energy}
                                                 : parse_number_list(options.sigma_values, "--sigma-values");
    std::vector<DescriptorAxis> axes;
    for (const std::string& text : options.descriptor_axes) axes.push_back(parse_axis(text));
    const std::vector<Frame> frames = read_extxyz(options.input, settings.labels);

    // The descriptor grid in row-major order of the axes; each variant is checked before any fit.
    std::size_t n_variants = 1;
    for (const DescriptorAxis& axis : axes) n_variants *= axis.values.size();
    std::vector<std::vector<json>> variants(n_variants);
    for (std::size_t v = 0; v < n_variants; ++v) {
        std::size_t rest = v;
        for (std::size_t a = axes.size(); a-- > 0;) {
            variants[v].insert(variants[v].begin(), axes[a].values[rest % axes[a].values.size()]);
            rest /= axes[a].values.size();
        }
    }
    auto variant_settings = [&](std::size_t v) {
        TrainingSettings s = settings;
        for (std::size_t a = 0; a < axes.size(); ++a) s.descriptor[axes[a].key] = variants[v][a];
        return s;
    };
    // Every variant is a valid descriptor (known keys, values in range) before the first fit.
    for (std::size_t v = 0; v < n_variants; ++v) create_descriptor_from_spec(variant_settings(v).descriptor);
    const char* parameter = settings.kernel.kind() == KernelKind::polynomial ? "zeta" : linear ? "none" : "gamma";
    std::printf("atomfp scan: %zu structures, %d-fold cross-validation, %zu descriptor x %zu kernel x %zu sigma points\n",
                frames.size(), options.folds, n_variants, kernel_values.size(), sigma_values.size());
    std::fflush(stdout);

    const auto start = std::chrono::steady_clock::now();
    const std::size_t fits_total = n_variants * kernel_values.size() * static_cast<std::size_t>(options.folds);
    std::size_t fits_done = 0;
    std::vector<GridPoint> grid;
    for (std::size_t v = 0; v < n_variants; ++v) {
        TrainingSettings s = variant_settings(v);
        std::string name;
        for (std::size_t a = 0; a < axes.size(); ++a) name += (a ? " " : "") + axes[a].key + "=" + variants[v][a].dump();
        // Progress on stderr after every fold: what runs, the time so far and an estimate of the rest.
        s.progress = [&](const std::string& stage, int64_t done, int64_t total) {
            if (stage != "folds") return;
            ++fits_done;
            const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const double remaining = elapsed / static_cast<double>(fits_done) * static_cast<double>(fits_total - fits_done);
            std::fprintf(stderr, "scan: %s%sfold %lld/%lld, %zu of %zu fits, %s elapsed, about %s left\n", name.c_str(),
                         name.empty() ? "" : ": ", static_cast<long long>(done), static_cast<long long>(total), fits_done, fits_total,
                         duration(elapsed).c_str(), duration(remaining).c_str());
        };
        for (const ScanPoint& p : scan_hyperparameters(frames, s, kernel_values, sigma_values, options.folds, options.seed)) {
            grid.push_back({variants[v], p});
        }
    }

    const bool by_forces = options.rank_by == "forces";
    if (by_forces && grid.front().point.errors.n_force_components == 0) fail(Status::invalid_argument, "--rank-by forces: the data have no forces");
    auto score = [&](const GridPoint& g) { return by_forces ? g.point.errors.force_rmse : g.point.errors.energy_rmse_per_atom; };
    std::size_t best = 0;
    for (std::size_t p = 0; p < grid.size(); ++p)
        if (score(grid[p]) < score(grid[best])) best = p;

    std::printf(" ");
    for (const DescriptorAxis& axis : axes) std::printf(" %12s", axis.key.c_str());
    std::printf(" %10s %12s %18s %16s\n", parameter, "sigma_E", "energy RMSE meV/at", "force RMSE eV/A");
    for (std::size_t p = 0; p < grid.size(); ++p) {
        std::printf(" ");
        for (const json& value : grid[p].descriptor_values) std::printf(" %12s", value.dump().c_str());
        std::printf(" %10g %12g %18.3f %16.4f%s\n", grid[p].point.kernel_parameter, grid[p].point.sigma_energy,
                    1e3 * grid[p].point.errors.energy_rmse_per_atom, grid[p].point.errors.force_rmse, p == best ? "  <- best" : "");
    }
    std::printf("  best (lowest %s RMSE):", by_forces ? "force" : "energy");
    for (std::size_t a = 0; a < axes.size(); ++a) std::printf(" %s = %s,", axes[a].key.c_str(), grid[best].descriptor_values[a].dump().c_str());
    std::printf(" %s = %g, sigma_energy = %g\n", parameter, grid[best].point.kernel_parameter, grid[best].point.sigma_energy);
    // A best value at either end of an axis says the optimum may lie beyond the grid.
    auto warn_edge = [&](const std::string& name, const std::string& best_value, const std::vector<std::string>& values) {
        if (values.size() < 2 || (best_value != values.front() && best_value != values.back())) return;
        std::printf("  warning: the best %s (%s) is at the edge of the grid [%s ... %s]: extend the grid beyond it\n", name.c_str(),
                    best_value.c_str(), values.front().c_str(), values.back().c_str());
    };
    for (std::size_t a = 0; a < axes.size(); ++a) {
        std::vector<std::string> values;
        for (const json& value : axes[a].values) values.push_back(value.dump());
        warn_edge(axes[a].key, grid[best].descriptor_values[a].dump(), values);
    }
    {
        std::vector<std::string> kernels, sigmas;
        for (double k : kernel_values) kernels.push_back(label(k));
        for (double s : sigma_values) sigmas.push_back(label(s));
        if (!linear) warn_edge(parameter, label(grid[best].point.kernel_parameter), kernels);
        warn_edge("sigma_energy", label(grid[best].point.sigma_energy), sigmas);
    }

    const std::string& prefix = options.output;
    std::ofstream csv(prefix + ".csv");
    if (!csv) fail(Status::io, "cannot open '", prefix, ".csv' for writing");
    for (const DescriptorAxis& axis : axes) csv << axis.key << ",";
    csv << parameter << ",sigma_energy,energy_rmse_eV_per_atom,energy_mae_eV_per_atom,force_rmse_eV_per_A,force_mae_eV_per_A\n";
    csv.precision(10);
    for (const GridPoint& g : grid) {
        for (const json& value : g.descriptor_values) csv << value.dump() << ",";
        const ScanPoint& p = g.point;
        csv << p.kernel_parameter << "," << p.sigma_energy << "," << p.errors.energy_rmse_per_atom << "," << p.errors.energy_mae_per_atom
            << "," << p.errors.force_rmse << "," << p.errors.force_mae << "\n";
    }
    if (!csv) fail(Status::io, "cannot write '", prefix, ".csv'");

    // Heat maps: sigma across, (descriptor values, kernel parameter) down; the best cell is marked.
    Figure figure;
    figure.title = "Cross-validated errors";
    Heatmap energy, force;
    for (double s : sigma_values) energy.x_labels.push_back(label(s));
    for (std::size_t v = 0; v < n_variants; ++v)
        for (double k : kernel_values) {
            std::string row;
            for (std::size_t a = 0; a < axes.size(); ++a) row += axes[a].key + "=" + variants[v][a].dump() + " ";
            energy.y_labels.push_back(row + (linear ? "" : std::string(parameter) + "=" + label(k)));
        }
    force.x_labels = energy.x_labels;
    force.y_labels = energy.y_labels;
    for (const GridPoint& g : grid) {
        energy.values.push_back(1e3 * g.point.errors.energy_rmse_per_atom);
        force.values.push_back(g.point.errors.force_rmse);
    }
    energy.marked = force.marked = static_cast<int64_t>(best);
    const std::string rows_label = axes.empty() ? parameter : "descriptor, " + std::string(parameter);
    Panel e("Energy RMSE (meV/atom)", "sigma_energy / eV per atom", rows_label);
    e.heatmap.push_back(energy);
    figure.panels.push_back(e);
    if (grid.front().point.errors.n_force_components) {
        Panel f("Force RMSE (eV/Å)", "sigma_energy / eV per atom", rows_label);
        f.heatmap.push_back(force);
        figure.panels.push_back(f);
        figure.columns = 2;
    }
    figure.panel_height = 80.0 + 40.0 * static_cast<double>(energy.y_labels.size());
    write_svg(prefix + ".svg", figure);
    std::printf("  wrote %s.csv, %s.svg\n", prefix.c_str(), prefix.c_str());
}

}  // namespace

Command add_scan(CLI::App& tool) {
    auto options = std::make_shared<ScanOptions>();
    CLI::App* app = add_command(tool, "scan", "cross-validated grid over descriptor, kernel and regularisation settings",
                                "atomfp scan --config FIT.json [--descriptor KEY=V1,V2,...]... [--kernel-values V1,V2,...]\n"
                                "                   [--sigma-values S1,S2,...] TRAIN.extxyz -o PREFIX [--cv K] [--seed S]\n"
                                "                   [--rank-by energy|forces]",
                                "Cross-validates (K folds) a fit for every point of a grid: descriptor settings (--descriptor,\n"
                                "repeatable, e.g. cutoff=3.5,4.5 or max_radial=8,10), the kernel parameter (zeta of the\n"
                                "polynomial kernel, gamma of the squared exponential) and the energy regularisation\n"
                                "sigma_energy (eV/atom; every other sigma of FIT.json scales with it). An axis not given keeps\n"
                                "FIT.json's value. Prints every point, the best one (lowest cross-validated energy or force\n"
                                "RMSE) and a warning for every axis whose best value is at an end of its grid; progress with\n"
                                "the time elapsed and an estimate of the rest goes to stderr after every fold.");
    add_input(app, options->input, "TRAIN", "extended XYZ file of the training structures");
    app->add_option("--config", options->config, "training settings (JSON), as for 'atomfp fit'")->type_name("FILE")->required();
    repeatable(app->add_option("--descriptor", options->descriptor_axes, "a descriptor key and the values to try")
                   ->type_name("KEY=LIST"));
    app->add_option("--kernel-values", options->kernel_values, "kernel parameters to try, comma-separated")->type_name("LIST");
    app->add_option("--sigma-values", options->sigma_values, "sigma_energy values to try (eV/atom), comma-separated")
        ->type_name("LIST");
    app->add_option("--cv", options->folds, "number of cross-validation folds")
        ->type_name("K")
        ->check(CLI::Range(2, 1000000).description(""))
        ->capture_default_str();
    app->add_option("--rank-by", options->rank_by, "which cross-validated RMSE picks the best point")
        ->type_name("WHAT")
        ->check(CLI::IsMember({"energy", "forces"}))
        ->capture_default_str();
    add_seed(app, options->seed, "shuffles the structures into folds");
    add_label_keys(app, options->labels);
    add_output(app, options->output, "PREFIX",
               "writes PREFIX.csv and heat maps PREFIX.svg of the cross-validated\nenergy (and force) RMSE, the best cell marked")
        ->required();
    return {app, [options] { run_scan(*options); }};
}

}  // namespace atomfp::cli
