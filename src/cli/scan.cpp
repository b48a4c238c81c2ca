#include "cli/options.hpp"
#include "cli/svg_plot.hpp"
#include "core/error.hpp"
#include "models/trainer.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace atomfp::cli {

namespace {

struct ScanOptions {
    std::string config, input, output, kernel_values, sigma_values;
    LabelKeyOptions labels;
    int folds = 5;
    uint64_t seed = 1;
};

std::string label(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", v);
    return buffer;
}

void run_scan(const ScanOptions& options) {
    TrainingSettings settings = TrainingSettings::parse(parse_json(read_text_file(options.config)));
    options.labels.apply_to(settings.labels);
    const std::vector<double> kernel_values = parse_number_list(options.kernel_values, "--kernel-values");
    const std::vector<double> sigma_values = parse_number_list(options.sigma_values, "--sigma-values");
    const std::vector<Frame> frames = read_extxyz(options.input, settings.labels);
    const std::vector<ScanPoint> points =
        scan_hyperparameters(frames, settings, kernel_values, sigma_values, options.folds, options.seed);

    const char* parameter = settings.kernel.kind() == KernelKind::polynomial ? "zeta" : "gamma";
    std::printf("atomfp scan: %zu structures, %lld-fold cross-validation\n", frames.size(), static_cast<long long>(options.folds));
    std::printf("  %10s %12s %18s %16s\n", parameter, "sigma_E", "energy RMSE meV/at", "force RMSE eV/A");
    std::size_t best = 0;
    for (std::size_t p = 0; p < points.size(); ++p) {
        std::printf("  %10g %12g %18.3f %16.4f\n", points[p].kernel_parameter, points[p].sigma_energy,
                    1e3 * points[p].errors.energy_rmse_per_atom, points[p].errors.force_rmse);
        if (points[p].errors.energy_rmse_per_atom < points[best].errors.energy_rmse_per_atom) best = p;
    }
    std::printf("  best (lowest energy RMSE): %s = %g, sigma_energy = %g\n", parameter, points[best].kernel_parameter,
                points[best].sigma_energy);

    const std::string& prefix = options.output;
    std::ofstream csv(prefix + ".csv");
    if (!csv) fail(Status::io, "cannot open '", prefix, ".csv' for writing");
    csv << parameter << ",sigma_energy,energy_rmse_eV_per_atom,energy_mae_eV_per_atom,force_rmse_eV_per_A,force_mae_eV_per_A\n";
    csv.precision(10);
    for (const ScanPoint& p : points) {
        csv << p.kernel_parameter << "," << p.sigma_energy << "," << p.errors.energy_rmse_per_atom << ","
            << p.errors.energy_mae_per_atom << "," << p.errors.force_rmse << "," << p.errors.force_mae << "\n";
    }
    if (!csv) fail(Status::io, "cannot write '", prefix, ".csv'");

    Figure figure;
    figure.title = "Cross-validated errors";
    Heatmap energy, force;
    for (double s : sigma_values) energy.x_labels.push_back(label(s));
    for (double k : kernel_values) energy.y_labels.push_back(label(k));
    force.x_labels = energy.x_labels;
    force.y_labels = energy.y_labels;
    for (const ScanPoint& p : points) {
        energy.values.push_back(1e3 * p.errors.energy_rmse_per_atom);
        force.values.push_back(p.errors.force_rmse);
    }
    Panel e("Energy RMSE (meV/atom)", "sigma_energy / eV per atom", parameter);
    e.heatmap.push_back(energy);
    figure.panels.push_back(e);
    if (points.front().errors.n_force_components) {
        Panel f("Force RMSE (eV/Å)", "sigma_energy / eV per atom", parameter);
        f.heatmap.push_back(force);
        figure.panels.push_back(f);
        figure.columns = 2;
    }
    figure.panel_height = 80.0 + 40.0 * static_cast<double>(kernel_values.size());
    write_svg(prefix + ".svg", figure);
    std::printf("  wrote %s.csv, %s.svg\n", prefix.c_str(), prefix.c_str());
}

}  // namespace

Command add_scan(CLI::App& tool) {
    auto options = std::make_shared<ScanOptions>();
    CLI::App* app = add_command(tool, "scan", "cross-validated grid over the kernel parameter and the regularisation",
                                "atomfp scan --config FIT.json --kernel-values V1,V2,... --sigma-values S1,S2,... TRAIN.extxyz\n"
                                "                   -o PREFIX [--cv K] [--seed S]",
                                "Cross-validates (K folds) a fit for every pair of a kernel parameter (zeta of the polynomial\n"
                                "kernel, gamma of the squared exponential) and an energy regularisation sigma_energy (eV/atom;\n"
                                "sigma_forces and sigma_virial scale with it from FIT.json), and prints the best pair.");
    add_input(app, options->input, "TRAIN", "extended XYZ file of the training structures");
    app->add_option("--config", options->config, "training settings (JSON), as for 'atomfp fit'")->type_name("FILE")->required();
    app->add_option("--kernel-values", options->kernel_values, "kernel parameters to try, comma-separated")
        ->type_name("LIST")
        ->required();
    app->add_option("--sigma-values", options->sigma_values, "sigma_energy values to try (eV/atom), comma-separated")
        ->type_name("LIST")
        ->required();
    app->add_option("--cv", options->folds, "number of cross-validation folds")
        ->type_name("K")
        ->check(CLI::Range(2, 1000000).description(""))
        ->capture_default_str();
    add_seed(app, options->seed, "shuffles the structures into folds");
    add_label_keys(app, options->labels);
    add_output(app, options->output, "PREFIX", "writes PREFIX.csv and a heat map PREFIX.svg of the\ncross-validated energy (and force) RMSE")
        ->required();
    return {app, [options] { run_scan(*options); }};
}

}  // namespace atomfp::cli
