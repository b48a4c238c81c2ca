#include "analysis/optimal_basis.hpp"
#include "cli/arguments.hpp"
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "io/extxyz.hpp"

#include <cstdio>
#include <fstream>

namespace atomfp::cli {

namespace {

const char* optimize_basis_usage =
    "usage: atomfp optimize-basis --spec PRIMITIVE.json --max-radial Q INPUT.extxyz -o OPTIMAL.json [options]\n"
    "\n"
    "Build the data-driven optimal radial basis: the Q leading principal components of the density\n"
    "expansion coefficients of a large primitive basis (radial_basis \"gto\" or \"dvr\") over every\n"
    "atom of every frame, per neighbour species and l. Writes the specification with the\n"
    "contraction inline and prints the residual variance per (species, l) (thesis eq 3.12).\n"
    "\n"
    "  --spec FILE         SOAP-family specification with the primitive basis, e.g. max_radial 20\n"
    "  --max-radial Q      number of optimal radial functions to keep\n"
    "  --mixing MODE       separate (default: one basis per neighbour species) or mixed (joint\n"
    "                      (species, n) channels)\n"
    "  -o, --output FILE   the optimal specification (JSON)\n"
    "  --quiet             do not print the residual variances\n"
    "  --help              show this message\n";

}  // namespace

int optimize_basis(int argc, char** argv) {
    try {
        Arguments args(argc, argv, {"--spec", "--max-radial", "--mixing", "-o", "--output"}, {"--help", "-h", "--quiet"});
        if (args.flag("--help") || args.flag("-h")) {
            std::fputs(optimize_basis_usage, stdout);
            return 0;
        }
        const std::string output = args.has("-o") ? args.value("-o") : args.value("--output");
        if (!args.has("--spec") || !args.has("--max-radial") || output.empty() || args.positional().size() != 1) {
            std::fputs(optimize_basis_usage, stderr);
            return 2;
        }
        const std::string mixing = args.value("--mixing", "separate");
        if (mixing != "separate" && mixing != "mixed") fail(Status::invalid_argument, "--mixing must be separate or mixed, got '", mixing, "'");
        const std::vector<int64_t> q = parse_index_list(args.value("--max-radial"));
        if (q.size() != 1) fail(Status::invalid_argument, "--max-radial takes one number");
        const RadialBasisOptimizer optimizer(parse_json(read_text_file(args.value("--spec"))));

        const std::vector<Frame> frames = read_extxyz(args.positional()[0]);
        std::vector<NeighbourList> lists;
        std::vector<SystemView> systems;
        for (const Frame& frame : frames) lists.push_back(neighbours_of(frame, optimizer.cutoff()));
        for (const NeighbourList& list : lists) systems.push_back(list.view());
        const OptimalBasis optimal = optimizer.optimize(systems, static_cast<int>(q[0]), mixing == "mixed");

        std::ofstream out(output);
        if (!out) fail(Status::io, "cannot open '", output, "' for writing");
        out << optimal.spec.dump(2) << "\n";
        if (!out) fail(Status::io, "cannot write '", output, "'");

        if (!args.flag("--quiet")) {
            const int q_max = static_cast<int>(q[0]);
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
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "atomfp optimize-basis: %s\n", e.what());
        return 1;
    }
}

}  // namespace atomfp::cli
