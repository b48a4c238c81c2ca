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
#include <map>
#include <sstream>

namespace atomfp::cli {

namespace {

struct PredictOptions {
    std::string model, input, output, svg;
    std::string prefix = "atomfp_";
    LabelKeyOptions labels;
};

// The predictions join a frame under their own keys (PREFIXenergy, PREFIXforces, and for a frame
// with a cell PREFIXvirial and PREFIXstress = -virial / V; with variances PREFIXenergy_sigma and
// per atom PREFIXvariance): its references and every other property stay as they were read.
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
    auto replace_column = [&frame](ExtraColumn column) {
        auto same_name = [&](const ExtraColumn& c) { return c.name == column.name; };
        frame.extra_columns.erase(std::remove_if(frame.extra_columns.begin(), frame.extra_columns.end(), same_name),
                                  frame.extra_columns.end());
        frame.extra_columns.push_back(std::move(column));
    };
    ExtraColumn forces{prefix + "forces", 'R', 3, {}};
    for (double f : p.forces) forces.values.push_back(text(&f, 1));
    replace_column(std::move(forces));
    if (!p.features_outside.empty()) {
        ExtraColumn outside{prefix + "extrapolation", 'I', 1, {}};
        for (int64_t k : p.features_outside) outside.values.push_back(std::to_string(k));
        replace_column(std::move(outside));
    }
    if (p.energy_variance) {
        const double sigma = std::sqrt(std::max(*p.energy_variance, 0.0));
        frame.info[prefix + "energy_sigma"] = text(&sigma, 1);
        ExtraColumn variances{prefix + "variance", 'R', 1, {}};
        for (double v : p.centre_variances) variances.values.push_back(text(&v, 1));
        replace_column(std::move(variances));
    }
}

// The diagonal y = x over the range of both coordinates.
Series diagonal(const std::vector<double>& x, const std::vector<double>& y) {
    double lo = INFINITY, hi = -INFINITY;
    for (double v : x) lo = std::min(lo, v), hi = std::max(hi, v);
    for (double v : y) lo = std::min(lo, v), hi = std::max(hi, v);
    return {"y = x", {lo, hi}, {lo, hi}, Series::Style::line, Series::Marker::circle, "#888"};
}

// One quantity's points, split by config_type: reference values and predictions.
struct QuantityPoints {
    std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> by_type;
    bool empty() const { return by_type.empty(); }
};

// Parity (predicted against reference) and residual (error against reference) panels for energies
// per atom, force components and virials per atom, points coloured by config_type. Residuals stay
// readable at meV errors, where a parity plot is a line.
void write_parity_figure(const std::string& path, const std::string& title, const std::vector<Frame>& frames,
                         const std::vector<FramePrediction>& predictions, const ErrorMetrics& errors) {
    QuantityPoints energy, force, virial;
    for (std::size_t a = 0; a < frames.size(); ++a) {
        const Frame& f = frames[a];
        const std::string type = config_type_of(f, "structures");
        const double n = static_cast<double>(f.size());
        if (f.energy) {
            auto& [x, y] = energy.by_type[type];
            x.push_back(*f.energy / n);
            y.push_back(predictions[a].energy / n);
        }
        if (!f.forces.empty()) {
            auto& [x, y] = force.by_type[type];
            x.insert(x.end(), f.forces.begin(), f.forces.end());
            y.insert(y.end(), predictions[a].forces.begin(), predictions[a].forces.end());
        }
        const std::optional<Mat3> reference = reference_virial(f);
        if (reference && predictions[a].virial) {
            auto& [x, y] = virial.by_type[type];
            for (int k = 0; k < 9; ++k) {
                x.push_back((*reference)[k] / n);
                y.push_back((*predictions[a].virial)[k] / n);
            }
        }
    }
    Figure figure;
    figure.title = title;
    auto add_panels = [&](const QuantityPoints& points, const std::string& name, const std::string& unit, double rmse,
                          double residual_scale, const std::string& residual_unit) {
        if (points.empty()) return;
        std::vector<Series> parity, residual;
        std::vector<double> all_x, all_y;
        for (const auto& [type, xy] : points.by_type) {
            const auto& [x, y] = xy;
            all_x.insert(all_x.end(), x.begin(), x.end());
            all_y.insert(all_y.end(), y.begin(), y.end());
            Series p{type, x, y, Series::Style::markers, Series::Marker::circle, ""};
            Series r{type, x, {}, Series::Style::markers, Series::Marker::circle, ""};
            for (std::size_t k = 0; k < x.size(); ++k) r.y.push_back(residual_scale * (y[k] - x[k]));
            parity.push_back(std::move(p));
            residual.push_back(std::move(r));
        }
        parity.insert(parity.begin(), diagonal(all_x, all_y));
        parity.front().label.clear();
        char text[160];
        std::snprintf(text, sizeof text, "%s (RMSE %.4g %s)", name.c_str(), rmse * residual_scale, residual_unit.c_str());
        figure.panels.push_back({text, "reference / " + unit, "predicted / " + unit, false, false, false, parity});
        figure.panels.push_back({name + ": error", "reference / " + unit, "predicted - reference / " + residual_unit, false, false,
                                 false, residual});
    };
    add_panels(energy, "Energy per atom", "eV/atom", errors.energy_rmse_per_atom, 1e3, "meV/atom");
    add_panels(force, "Force components", "eV/Å", errors.force_rmse, 1.0, "eV/Å");
    add_panels(virial, "Virial per atom", "eV/atom", errors.virial_rmse_per_atom, 1.0, "eV/atom");
    figure.columns = 2;
    figure.panel_width = 560.0;
    figure.panel_height = 400.0;
    write_svg(path, figure);
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
    const bool variances = model.covariance() != nullptr;
    const bool extrapolation = model.has_feature_ranges();
    const std::vector<FramePrediction> predictions = predict_frames(model, frames, true, true, variances, extrapolation);
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
        for (std::size_t a = 0; a < frames.size(); ++a) {
            std::printf("  frame %zu: E = %.6f eV", a, predictions[a].energy);
            if (variances) std::printf(" +- %.3g eV", std::sqrt(std::max(*predictions[a].energy_variance, 0.0)));
            std::printf("\n");
        }
    }
    if (extrapolation) {
        int64_t centres = 0, outside = 0, structures = 0;
        for (const FramePrediction& p : predictions) {
            int64_t here = 0;
            for (int64_t k : p.features_outside) here += k > 0;
            centres += here;
            structures += here > 0;
            for (int64_t k : p.features_outside) outside += k;
        }
        std::printf("  extrapolation: %lld atoms in %lld structures have features outside their training range (%lld features in all)\n",
                    static_cast<long long>(centres), static_cast<long long>(structures), static_cast<long long>(outside));
    }
    if (variances && errors.n_energies) {
        const Calibration c = calibrate(frames, predictions);
        std::printf("  energy errors against the predicted sigma (%lld structures): %.0f %% within 1 sigma (68 %% if calibrated), "
                    "%.0f %% within 2 sigma (95 %%), mean NLL %.3f; the variance scale that would fit them: %.3g\n",
                    static_cast<long long>(c.n), 100.0 * c.within_one_sigma, 100.0 * c.within_two_sigma,
                    c.mean_negative_log_likelihood, c.likelihood_scale);
    } else if (!variances) {
        std::printf("  (no variances: the model carries no posterior covariance)\n");
    }
    if (!options.svg.empty()) {
        write_parity_figure(options.svg, "Parity: " + options.model + " on " + options.input, frames, predictions, errors);
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
                                "Predicts energies, forces and (for periodic structures) virials, and with a model that carries\n"
                                "its posterior covariance the variance of every atom's energy and the structure's sigma. Where\n"
                                "DATA carries reference values it prints per-structure errors, the energy / force / virial RMSE\n"
                                "and MAE, and how the energy errors compare with the predicted sigmas.");
    add_input(app, options->input, "DATA", "extended XYZ file of the structures");
    app->add_option("--model", options->model, "the model file (atomfp fit -o)")->type_name("FILE")->required();
    add_output(app, options->output, "FILE",
               "the structures as read, with the predictions added under\nPREFIXenergy, PREFIXforces and, with a cell, PREFIXvirial and\nPREFIXstress; with variances PREFIXenergy_sigma (eV) and per atom\nPREFIXvariance (eV^2); per atom PREFIXextrapolation, the number of\nfeatures outside their training range (extended XYZ)");
    app->add_option("--prefix", options->prefix, "the prefix of the prediction keys in -o")->type_name("PREFIX")->capture_default_str();
    add_label_keys(app, options->labels);
    add_svg(app, options->svg,
            "parity plots of predicted against reference energies per atom and force\ncomponents (refused for data without references)");
    return {app, [options] { run_predict(*options); }};
}

}  // namespace atomfp::cli
