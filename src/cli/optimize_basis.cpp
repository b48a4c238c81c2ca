#include "analysis/optimal_basis.hpp"
#include "cli/options.hpp"
#include "cli/svg_plot.hpp"
#include "io/atomic_output.hpp"
#include "core/error.hpp"
#include "io/extxyz.hpp"

#include <cstdio>
#include <fstream>
#include <memory>

namespace atomfp::cli {

namespace {

struct OptimizeBasisOptions {
    std::string spec, input, output, svg, mixing = "separate";
    int max_radial = 0;
};

void run_optimize_basis(const OptimizeBasisOptions& options) {
    if (!options.svg.empty()) check_writable(options.svg);
    const RadialBasisOptimizer optimizer(parse_json(read_text_file(options.spec)));

    const std::vector<Frame> frames = read_extxyz(options.input);
    std::vector<NeighbourList> lists;
    std::vector<SystemView> systems;
    for (const Frame& frame : frames) lists.push_back(neighbours_of(frame, optimizer.cutoff()));
    for (const NeighbourList& list : lists) systems.push_back(list.view());
    const OptimalBasis optimal = optimizer.optimize(systems, options.max_radial, options.mixing == "mixed");

    const std::string& output = options.output;
    std::ofstream out(output);
    if (!out) fail(Status::io, "cannot open '", output, "' for writing");
    out << optimal.spec.dump(2) << "\n";
    if (!out) fail(Status::io, "cannot write '", output, "'");

    const int q_max = options.max_radial;
    std::printf("atomfp optimize-basis: %lld environments from %zu frame%s, %s basis with %d functions -> %d\n",
                static_cast<long long>(optimal.n_environments), frames.size(), frames.size() == 1 ? "" : "s",
                optimal.spec["optimal_basis"]["primitive_basis"].get<std::string>().c_str(),
                optimal.spec["optimal_basis"]["primitive_max_radial"].get<int>(), q_max);
    std::printf("residual variance (1 - kept / total) per block after keeping q functions:\n");
    std::printf("  %-12s", "block");
    for (int k = 1; k <= q_max; ++k) std::printf(" %9s", ("q=" + std::to_string(k)).c_str());
    std::printf("\n");
    for (const auto& block : optimal.blocks) {
        std::printf("  %-12s", block.label.c_str());
        for (int k = 1; k <= q_max; ++k) std::printf(" %9.2e", block.residual_variance(k));
        std::printf("\n");
    }
    std::printf("  wrote %s\n", output.c_str());
    if (!options.svg.empty()) {
        Panel panel("Residual variance of the optimal basis", "radial functions kept, q", "1 - kept / total variance", false, true);
        for (const auto& block : optimal.blocks) {
            Series s{block.label, {}, {}, Series::Style::line_and_markers, Series::Marker::circle, ""};
            for (int k = 1; k <= q_max; ++k) {
                s.x.push_back(k);
                s.y.push_back(block.residual_variance(k));
            }
            panel.series.push_back(std::move(s));
        }
        Figure figure;
        figure.panels.push_back(panel);
        figure.panel_height = 420.0;
        write_svg(options.svg, figure);
        std::printf("  wrote %s\n", options.svg.c_str());
    }
}

}  // namespace

Command add_optimize_basis(CLI::App& tool) {
    auto options = std::make_shared<OptimizeBasisOptions>();
    CLI::App* app = add_command(tool, "optimize-basis", "build a data-driven optimal radial basis for the SOAP family from a dataset",
                                "atomfp optimize-basis --spec PRIMITIVE.json --max-radial Q INPUT.extxyz -o OPTIMAL.json [options]",
                                "Builds the data-driven optimal radial basis: the Q leading principal components of the density\n"
                                "expansion coefficients of a large primitive basis (radial_basis \"gto\" or \"dvr\") over every\n"
                                "atom of every frame, per neighbour species and l. Writes the specification with the\n"
                                "contraction inline and prints the residual variance per (species, l) (Goscinski 2024,\n"
                                "thesis eq 3.12).");
    add_input(app, options->input, "INPUT", "extended XYZ file of the dataset");
    add_spec(app, options->spec, "SOAP-family specification with the primitive basis, e.g. max_radial 20")->required();
    app->add_option("--max-radial", options->max_radial, "number of optimal radial functions to keep")
        ->type_name("Q")
        ->check(CLI::PositiveNumber.description(""))
        ->required();
    app->add_option("--mixing", options->mixing,
                    "separate: one basis per neighbour species; mixed: joint (species, n)\nchannels")
        ->check(CLI::IsMember({"separate", "mixed"}))
        ->capture_default_str();
    add_output(app, options->output, "FILE", "the optimal specification (JSON)")->required();
    add_svg(app, options->svg, "draw the residual variance against q per block (log axis)");
    return {app, [options] { run_optimize_basis(*options); }};
}

}  // namespace atomfp::cli
