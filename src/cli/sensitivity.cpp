#include "analysis/sensitivity.hpp"
#include "cli/centre_input.hpp"
#include "cli/options.hpp"
#include "cli/svg_plot.hpp"
#include "io/atomic_output.hpp"
#include "core/error.hpp"
#include "descriptors/factory.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

namespace atomfp::cli {

namespace {

struct SensitivityOptions {
    std::string spec, input, output, svg;
    int64_t centre = 0, frame = 0;
    bool keep_rigid = false, scale_max = false;
};

void run_sensitivity(const SensitivityOptions& options) {
    if (!options.svg.empty()) check_writable(options.svg);
    auto descriptor = create_descriptor(read_text_file(options.spec));
    const CentreInput input = read_centre_input(options.input, options.frame, options.centre, descriptor->cutoff());
    const bool remove_rigid = !options.keep_rigid;
    const int32_t flags = (remove_rigid ? sensitivity_remove_rigid : 0) | (options.scale_max ? sensitivity_scale_max : 0);
    const EnvironmentJacobian jacobian = environment_jacobian(*descriptor, input.list.view(), input.center);
    std::vector<double> eigenvalues;
    const int64_t n_rigid = sensitivity_spectrum(jacobian, flags, eigenvalues, nullptr);
    const double condition = condition_number(eigenvalues, n_rigid);

    std::printf("atomfp sensitivity: %s, %lld features; centre %lld of frame %lld: %lld environment atoms, %lld rigid modes%s\n",
                descriptor->type().c_str(), static_cast<long long>(jacobian.n_features), static_cast<long long>(input.center),
                static_cast<long long>(input.frame_index), static_cast<long long>(jacobian.n_atoms), static_cast<long long>(n_rigid),
                remove_rigid ? " (projected out)" : "");
    std::printf("  %5s %15s %15s\n", "k", "eigenvalue", "singular value");
    for (std::size_t k = 0; k < eigenvalues.size(); ++k) {
        std::printf("  %5zu %15.6e %15.6e\n", k, eigenvalues[k], std::sqrt(std::max(eigenvalues[k], 0.0)));
    }
    std::printf("  condition number (largest / smallest non-rigid singular value): %.6e\n", condition);
    const std::string& output = options.output;
    if (!output.empty()) {
        std::ofstream out(output);
        if (!out) fail(Status::io, "cannot open '", output, "' for writing");
        out << "index,eigenvalue,singular_value\n";
        out.precision(17);
        for (std::size_t k = 0; k < eigenvalues.size(); ++k) {
            out << k << "," << eigenvalues[k] << "," << std::sqrt(std::max(eigenvalues[k], 0.0)) << "\n";
        }
        if (!out) fail(Status::io, "cannot write '", output, "'");
    }
    if (!options.svg.empty()) {
        // Eigenvalues on a log axis; the rigid modes, exact zeros when projected out, cannot appear
        // there and are marked by a line left of which they sit.
        Series values{"eigenvalues of S", {}, {}, Series::Style::line_and_markers, Series::Marker::circle, "#1f77b4"};
        double lowest = INFINITY, highest = 0.0;
        for (std::size_t k = static_cast<std::size_t>(n_rigid); k < eigenvalues.size(); ++k) {
            if (!(eigenvalues[k] > 0.0)) continue;
            values.x.push_back(static_cast<double>(k));
            values.y.push_back(eigenvalues[k]);
            lowest = std::min(lowest, eigenvalues[k]);
            highest = std::max(highest, eigenvalues[k]);
        }
        std::vector<Series> series{values};
        if (n_rigid > 0 && highest > 0.0) {
            const double x = static_cast<double>(n_rigid) - 0.5;
            series.push_back({std::to_string(n_rigid) + " rigid modes (zero) to the left", {x, x}, {lowest, highest},
                              Series::Style::line, Series::Marker::circle, "#d62728"});
        }
        char title[200];
        std::snprintf(title, sizeof title, "Sensitivity spectrum, centre %lld (condition number %.3g)",
                      static_cast<long long>(input.center), condition);
        Figure figure;
        figure.panels.push_back({title, "mode k", "eigenvalue of S = J^T J", false, true, false, series});
        write_svg(options.svg, figure);
        std::printf("  wrote %s\n", options.svg.c_str());
    }
}

}  // namespace

Command add_sensitivity(CLI::App& tool) {
    auto options = std::make_shared<SensitivityOptions>();
    CLI::App* app = add_command(tool, "sensitivity", "spectrum of S = J^T J for one centre's environment, and its condition number",
                                "atomfp sensitivity --spec SPEC.json --centre I INPUT.extxyz [options]",
                                "The sensitivity spectrum of one centre's features to the motion of its environment (the centre\n"
                                "and every neighbour inside the cutoff, N atoms): the eigenvalues of S = J^T J, J the Jacobian\n"
                                "of the features with respect to the 3N coordinates, the singular values of J and the condition\n"
                                "number (largest / smallest singular value over the displacements that are not rigid motions).");
    add_input(app, options->input, "INPUT", "extended XYZ file");
    add_spec(app, options->spec, "descriptor specification (JSON)")->required();
    add_centre(app, options->centre);
    add_frame(app, options->frame);
    app->add_flag("--keep-rigid", options->keep_rigid,
                  "keep the 6 rigid-body modes in the spectrum (default: project them out;\n"
                  "they are then reported as exact zeros first)");
    app->add_flag("--scale-max", options->scale_max, "divide the eigenvalues by the largest");
    add_output(app, options->output, "FILE", "also write the spectrum as CSV (index, eigenvalue, singular value)");
    add_svg(app, options->svg, "draw the spectrum (log axis, rigid modes marked)");
    return {app, [options] { run_sensitivity(*options); }};
}

}  // namespace atomfp::cli
