#include "analysis/sensitivity.hpp"
#include "cli/arguments.hpp"
#include "cli/centre_input.hpp"
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "descriptors/factory.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>

namespace atomfp::cli {

namespace {

const char* sensitivity_usage =
    "usage: atomfp sensitivity --spec SPEC.json --center I INPUT.extxyz [options]\n"
    "\n"
    "The sensitivity spectrum of one centre's features to the motion of its environment (the centre\n"
    "and every neighbour inside the cutoff, N atoms): the eigenvalues of S = J^T J, J the Jacobian\n"
    "of the features with respect to the 3N coordinates, the singular values of J and the condition\n"
    "number (largest / smallest singular value over the displacements that are not rigid motions).\n"
    "\n"
    "  --spec FILE         descriptor specification (JSON)\n"
    "  --center I          0-based atom index of the centre\n"
    "  --frame K           0-based frame of the input (default 0)\n"
    "  --keep-rigid        keep the 6 rigid-body modes in the spectrum (default: project them out;\n"
    "                      they are then reported as exact zeros first)\n"
    "  --scale-max         divide the eigenvalues by the largest\n"
    "  -o, --output FILE   also write the spectrum as CSV (index, eigenvalue, singular value)\n"
    "  --help              show this message\n";

}  // namespace

int sensitivity(int argc, char** argv) {
    try {
        Arguments args(argc, argv, {"--spec", "--center", "--frame", "-o", "--output"},
                       {"--help", "-h", "--keep-rigid", "--scale-max"});
        if (args.flag("--help") || args.flag("-h")) {
            std::fputs(sensitivity_usage, stdout);
            return 0;
        }
        if (!args.has("--spec") || !args.has("--center") || args.positional().size() != 1) {
            std::fputs(sensitivity_usage, stderr);
            return 2;
        }
        auto descriptor = create_descriptor(read_text_file(args.value("--spec")));
        const CentreInput input = read_centre_input(args, descriptor->cutoff());
        const bool remove_rigid = !args.flag("--keep-rigid");
        const int32_t flags = (remove_rigid ? sensitivity_remove_rigid : 0) | (args.flag("--scale-max") ? sensitivity_scale_max : 0);
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
        const std::string output = args.has("-o") ? args.value("-o") : args.value("--output");
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
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "atomfp sensitivity: %s\n", e.what());
        return 1;
    }
}

}  // namespace atomfp::cli
