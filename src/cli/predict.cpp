#include "cli/options.hpp"
#include "cli/svg_plot.hpp"
#include "core/error.hpp"
#include "io/atomic_output.hpp"
#include "io/extxyz.hpp"
#include "models/evaluation.hpp"
#include "models/model_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace atomfp::cli {

namespace {

struct PredictOptions {
    std::string model, input, output, svg;
    std::string prefix = "atomfp_";
    LabelKeyOptions labels;
};

// The predictions join a frame under their own keys (PREFIXenergy, PREFIXforces, and for a frame
// with a cell PREFIXvirial and PREFIXstress = -virial / V): its references and every other
// property stay as they were read.
void add_predictions(Frame& frame, const FramePrediction& p, const std::string& prefix) {
    auto text = [](const double* values, std::size_t count) {
        std::ostringstream out;
        out.precision(17);
        for (std::size_t i = 0; i < count; ++i) out << (i ? " " : "") << values[i];
        return out.str();
    };
    frame.info[prefix + "energy"] = text(&p.energy, 1);
    if (frame.cell && p.virial) {
        frame.info[prefix + "virial"] = text(p.virial->data(), 9);
        const double volume = std::abs(determinant(*frame.cell));
        Mat3 stress = *p.virial;
        for (double& x : stress) x /= -volume;
        frame.info[prefix + "stress"] = text(stress.data(), 9);
    }
    ExtraColumn forces{prefix + "forces", 'R', 3, {}};
    for (double f : p.forces) forces.values.push_back(text(&f, 1));
    auto same_name = [&](const ExtraColumn& c) { return c.name == forces.name; };
    frame.extra_columns.erase(std::remove_if(frame.extra_columns.begin(), frame.extra_columns.end(), same_name),
                              frame.extra_columns.end());
    frame.extra_columns.push_back(std::move(forces));
}

// The diagonal y = x over the range of both coordinates.
Series diagonal(const std::vector<double>& x, const std::vector<double>& y) {
    double lo = INFINITY, hi = -INFINITY;
    for (double v : x) lo = std::min(lo, v), hi = std::max(hi, v);
    for (double v : y) lo = std::min(lo, v), hi = std::max(hi, v);
    return {"y = x", {lo, hi}, {lo, hi}, Series::Style::line, Series::Marker::circle, "#888"};
}

void run_predict(const PredictOptions& options) {
    const std::string& output = options.output;
    if (!output.empty()) check_writable(output);
    if (!options.svg.empty()) check_writable(options.svg);
    const Model model = load_model(options.model);
    LabelKeys labels;
    options.labels.apply_to(labels);
    std::vector<Frame> frames = read_extxyz(options.input, labels);
    const bool reference_energies = std::any_of(frames.begin(), frames.end(), [](const Frame& f) { return f.energy.has_value(); });
    const bool reference_forces = std::any_of(frames.begin(), frames.end(), [](const Frame& f) { return !f.forces.empty(); });
    if (!options.svg.empty() && !reference_energies && !reference_forces) {
        fail(Status::invalid_argument, "--svg draws predictions against reference values, and ", options.input,
             " has neither an energy key '", labels.energy, "' nor a forces column '", labels.forces,
             "' (name them with --energy-key / --forces-key)");
    }
    const std::vector<FramePrediction> predictions = predict_frames(model, frames, true, true);
    const ErrorMetrics errors = compare(frames, predictions);

    std::printf("atomfp predict: %zu structures from %s with %s\n", frames.size(), options.input.c_str(),
                options.model.c_str());
    if (errors.n_energies) {
        std::printf("  %6s %6s %16s %16s %12s\n", "frame", "atoms", "E predicted/eV", "E reference/eV", "dE meV/atom");
        for (std::size_t a = 0; a < frames.size(); ++a) {
            if (!frames[a].energy) continue;
            std::printf("  %6zu %6lld %16.6f %16.6f %12.3f\n", a, static_cast<long long>(frames[a].size()), predictions[a].energy,
                        *frames[a].energy, 1e3 * (predictions[a].energy - *frames[a].energy) / static_cast<double>(frames[a].size()));
        }
        std::printf("  energy  RMSE %.3f meV/atom, MAE %.3f meV/atom (%lld structures)\n", 1e3 * errors.energy_rmse_per_atom,
                    1e3 * errors.energy_mae_per_atom, static_cast<long long>(errors.n_energies));
    }
    if (errors.n_force_components) {
        std::printf("  forces  RMSE %.4f eV/A, MAE %.4f eV/A (%lld components)\n", errors.force_rmse, errors.force_mae,
                    static_cast<long long>(errors.n_force_components));
    }
    if (errors.n_virial_components) {
        std::printf("  virial  RMSE %.4f eV/atom, MAE %.4f eV/atom (%lld components)\n", errors.virial_rmse_per_atom,
                    errors.virial_mae_per_atom, static_cast<long long>(errors.n_virial_components));
    }
    if (!errors.n_energies && !errors.n_force_components) {
        for (std::size_t a = 0; a < frames.size(); ++a) std::printf("  frame %zu: E = %.6f eV\n", a, predictions[a].energy);
    }
    if (!options.svg.empty()) {
        Series energies{"structures", {}, {}, Series::Style::markers, Series::Marker::circle, "#1f77b4"};
        Series forces{"components", {}, {}, Series::Style::markers, Series::Marker::circle, "#d62728"};
        for (std::size_t a = 0; a < frames.size(); ++a) {
            const double n = static_cast<double>(frames[a].size());
            if (frames[a].energy) {
                energies.x.push_back(*frames[a].energy / n);
                energies.y.push_back(predictions[a].energy / n);
            }
            for (std::size_t k = 0; k < frames[a].forces.size(); ++k) {
                forces.x.push_back(frames[a].forces[k]);
                forces.y.push_back(predictions[a].forces[k]);
            }
        }
        char title[160];
        Figure figure;
        if (reference_energies) {
            std::snprintf(title, sizeof title, "Energy per atom (RMSE %.2f meV/atom)", 1e3 * errors.energy_rmse_per_atom);
            figure.panels.push_back({title, "reference / eV", "predicted / eV", false, false, false,
                                     {diagonal(energies.x, energies.y), energies}});
        }
        if (reference_forces) {
            std::snprintf(title, sizeof title, "Force components (RMSE %.3f eV/Å)", errors.force_rmse);
            figure.panels.push_back({title, "reference / eV/Å", "predicted / eV/Å", false, false, false,
                                     {diagonal(forces.x, forces.y), forces}});
        }
        figure.columns = static_cast<int>(figure.panels.size());
        figure.panel_width = figure.panel_height = 420.0;
        figure.title = "Parity: " + options.model + " on " + options.input;
        write_svg(options.svg, figure);
        std::printf("  wrote %s\n", options.svg.c_str());
    }
    if (!output.empty()) {
        AtomicOutput file(output, false);
        std::ostream& out = file.stream();
        for (std::size_t a = 0; a < frames.size(); ++a) {
            add_predictions(frames[a], predictions[a], options.prefix);
            write_extxyz(out, frames[a], labels);
        }
        file.commit();
        std::printf("  wrote %s\n", output.c_str());
    }
}

}  // namespace

Command add_predict(CLI::App& tool) {
    auto options = std::make_shared<PredictOptions>();
    CLI::App* app = add_command(tool, "predict", "energies, forces and virials of a model, with errors and parity plots",
                                "atomfp predict --model MODEL.afp DATA.extxyz [-o PREDICTED.extxyz] [--svg PARITY.svg]",
                                "Predicts energies, forces and (for periodic structures) virials. Where DATA carries reference\n"
                                "values it prints per-structure errors and the energy / force / virial RMSE and MAE.");
    add_input(app, options->input, "DATA", "extended XYZ file of the structures");
    app->add_option("--model", options->model, "the model file (atomfp fit -o)")->type_name("FILE")->required();
    add_output(app, options->output, "FILE",
               "the structures as read, with the predictions added under\nPREFIXenergy, PREFIXforces and, with a cell, PREFIXvirial and\nPREFIXstress (extended XYZ)");
    app->add_option("--prefix", options->prefix, "the prefix of the prediction keys in -o")->type_name("PREFIX")->capture_default_str();
    add_label_keys(app, options->labels);
    app->add_option("--svg", options->svg,
                    "parity plots of predicted against reference energies per atom and force\ncomponents (refused for data without references)")
        ->type_name("FILE");
    return {app, [options] { run_predict(*options); }};
}

}  // namespace atomfp::cli
