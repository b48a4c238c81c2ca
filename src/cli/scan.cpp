#include "cli/arguments.hpp"
#include "cli/commands.hpp"
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

const char* scan_usage =
    "usage: atomfp scan --config FIT.json --kernel-values V1,V2,... --sigma-values S1,S2,... TRAIN.extxyz\n"
    "                   -o PREFIX [--cv K] [--seed S]\n"
    "\n"
    "Cross-validates (K folds, default 5) a fit for every pair of a kernel parameter (zeta of the\n"
    "polynomial kernel, gamma of the squared exponential) and an energy regularisation sigma_energy\n"
    "(eV/atom; sigma_forces and sigma_virial scale with it from FIT.json). Writes PREFIX.csv and a\n"
    "heat map PREFIX.svg of the cross-validated energy (and force) RMSE, and prints the best pair.\n";

std::string label(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", v);
    return buffer;
}

}  // namespace

int scan(int argc, char** argv) {
    try {
        Arguments args(argc, argv, {"--config", "--kernel-values", "--sigma-values", "-o", "--output", "--cv", "--seed"},
                       {"--help", "-h"});
        if (args.flag("--help") || args.flag("-h")) {
            std::fputs(scan_usage, stdout);
            return 0;
        }
        const std::string prefix = args.has("-o") ? args.value("-o") : args.value("--output");
        if (!args.has("--config") || !args.has("--kernel-values") || !args.has("--sigma-values") ||
            args.positional().size() != 1 || prefix.empty()) {
            std::fputs(scan_usage, stderr);
            return 2;
        }
        const TrainingSettings settings = TrainingSettings::parse(parse_json(read_text_file(args.value("--config"))));
        const std::vector<double> kernel_values = parse_number_list(args.value("--kernel-values"), "--kernel-values");
        const std::vector<double> sigma_values = parse_number_list(args.value("--sigma-values"), "--sigma-values");
        const std::vector<int64_t> folds = parse_index_list(args.value("--cv", "5"));
        const std::vector<int64_t> seed = parse_index_list(args.value("--seed", "1"));
        if (folds.size() != 1 || seed.size() != 1) fail(Status::invalid_argument, "--cv and --seed take one number each");
        const std::vector<Frame> frames = read_extxyz(args.positional()[0]);
        const std::vector<ScanPoint> points =
            scan_hyperparameters(frames, settings, kernel_values, sigma_values, static_cast<int>(folds[0]), static_cast<uint64_t>(seed[0]));

        const char* parameter = settings.kernel.kind() == KernelKind::polynomial ? "zeta" : "gamma";
        std::printf("atomfp scan: %zu structures, %lld-fold cross-validation\n", frames.size(), static_cast<long long>(folds[0]));
        std::printf("  %10s %12s %18s %16s\n", parameter, "sigma_E", "energy RMSE meV/at", "force RMSE eV/A");
        std::size_t best = 0;
        for (std::size_t p = 0; p < points.size(); ++p) {
            std::printf("  %10g %12g %18.3f %16.4f\n", points[p].kernel_parameter, points[p].sigma_energy,
                        1e3 * points[p].errors.energy_rmse_per_atom, points[p].errors.force_rmse);
            if (points[p].errors.energy_rmse_per_atom < points[best].errors.energy_rmse_per_atom) best = p;
        }
        std::printf("  best (lowest energy RMSE): %s = %g, sigma_energy = %g\n", parameter, points[best].kernel_parameter,
                    points[best].sigma_energy);

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
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "atomfp scan: %s\n", e.what());
        return 1;
    }
}

}  // namespace atomfp::cli
