#include "atomfp.h"
#include "cli/commands.hpp"

#include <cstdio>
#include <cstring>

namespace {

const char* usage =
    "usage: atomfp <command> [options]\n"
    "\n"
    "commands:\n"
    "  describe         compute descriptors (and gradients) of the structures in an extended XYZ file\n"
    "  optimize-basis   build a data-driven optimal radial basis for the SOAP family from a dataset\n"
    "  sensitivity      spectrum of S = J^T J for one centre's environment, and its condition number\n"
    "  manifold         trace a manifold of quasi-constant fingerprint from one centre's environment\n"
    "  perturb          descriptor change along a perturbation path and its log-log slope\n"
    "  fit              train a sparse GPR model on energies, forces and virials\n"
    "  predict          energies, forces and virials of a model, with errors and parity plots\n"
    "  scan             cross-validated grid over the kernel parameter and the regularisation\n"
    "  compare          feature-space reconstruction (GFRE, GFRD, LFRE) between two descriptors\n"
    "  select           choose features of a descriptor by CUR or farthest-point sampling\n"
    "  dims             reconstruction and PCA curves against the number of features\n"
    "  kim-model        a model file as a KIM portable model for LAMMPS and other KIM simulators\n"
    "\n"
    "options:\n"
    "  --help           show this message (or a command's with 'atomfp <command> --help')\n"
    "  --version        print the library version\n";

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        std::fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!std::strcmp(argv[1], "--version")) {
        std::printf("atomfp %s (SIMD kernels: %s)\n", atomfp_version_string(), atomfp_simd_kernels());
        return 0;
    }
    if (!std::strcmp(argv[1], "describe")) return atomfp::cli::describe(argc - 2, argv + 2);
    if (!std::strcmp(argv[1], "optimize-basis")) return atomfp::cli::optimize_basis(argc - 2, argv + 2);
    if (!std::strcmp(argv[1], "sensitivity")) return atomfp::cli::sensitivity(argc - 2, argv + 2);
    if (!std::strcmp(argv[1], "manifold")) return atomfp::cli::manifold(argc - 2, argv + 2);
    if (!std::strcmp(argv[1], "perturb")) return atomfp::cli::perturb(argc - 2, argv + 2);
    if (!std::strcmp(argv[1], "fit")) return atomfp::cli::fit(argc - 2, argv + 2);
    if (!std::strcmp(argv[1], "predict")) return atomfp::cli::predict(argc - 2, argv + 2);
    if (!std::strcmp(argv[1], "scan")) return atomfp::cli::scan(argc - 2, argv + 2);
    if (!std::strcmp(argv[1], "compare")) return atomfp::cli::compare(argc - 2, argv + 2);
    if (!std::strcmp(argv[1], "select")) return atomfp::cli::select(argc - 2, argv + 2);
    if (!std::strcmp(argv[1], "dims")) return atomfp::cli::dims(argc - 2, argv + 2);
    if (!std::strcmp(argv[1], "kim-model")) return atomfp::cli::kim_model(argc - 2, argv + 2);
    std::fprintf(stderr, "atomfp: unknown command '%s'\n\n%s", argv[1], usage);
    return 2;
}
