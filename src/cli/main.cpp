// atomfp: the command-line tool. Every command is defined in its own file on CLI11; this file
// assembles them and holds the one place where errors become messages and exit statuses:
// 0 success, 1 a failure while running, 2 a command line that does not parse.
#include "atomfp.h"
#include "cli/options.hpp"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace {

std::string version_line() {
    return std::string("atomfp ") + atomfp_version_string() + " (SIMD kernels: " + atomfp_simd_kernels() + ")";
}

}  // namespace

int main(int argc, char** argv) {
    using namespace atomfp::cli;
    CLI::App tool("Atomic-environment descriptors, their gradients and analysis, and kernel models built on them.", "atomfp");
    tool.formatter(std::make_shared<HelpFormatter>());
    tool.option_defaults()->group("options");  // inherited by every command
    set_usage(&tool, "atomfp <command> [options]\n       atomfp <command> --help");
    tool.set_help_flag("-h,--help", "show this message (or a command's with 'atomfp <command> --help')");
    tool.set_version_flag("--version", version_line(), "print the library version and the SIMD kernels in use");
    tool.require_subcommand(1);

    std::vector<Command> commands = {add_describe(tool), add_optimize_basis(tool), add_sensitivity(tool), add_manifold(tool),
                                     add_perturb(tool),  add_fit(tool),            add_predict(tool),     add_scan(tool),
                                     add_info(tool),     add_compare(tool),        add_select(tool),      add_dims(tool),
                                     add_kim_model(tool),  add_audit(tool),          add_learn(tool)};
    bool quiet = false;
    for (Command& command : commands) {
        command.app->group("commands");
        command.app->set_help_flag("-h,--help", "show this message");
        command.app->add_flag("-q,--quiet", quiet, "print nothing on standard output (errors still go to standard error)");
    }

    if (argc < 2) {
        std::fputs(tool.help().c_str(), stderr);
        return 2;
    }
    std::string name = "atomfp";
    try {
        tool.parse(argc, argv);
        for (const Command& command : commands) {
            if (command.app->parsed()) {
                name += " " + command.app->get_name();
                if (quiet && !std::freopen("/dev/null", "w", stdout)) return 1;
                command.run();
            }
        }
        return 0;
    } catch (const CLI::CallForHelp& help) {
        return tool.exit(help);
    } catch (const CLI::CallForVersion& version) {
        std::printf("%s\n", version.what());
        return 0;
    } catch (const CLI::Success&) {
        return 0;
    } catch (const CLI::ParseError& error) {
        const std::vector<CLI::App*> chosen = tool.get_subcommands();
        if (chosen.empty()) {
            const std::string given = argv[1];
            if (given.empty() || given[0] != '-') {
                std::fprintf(stderr, "atomfp: unknown command '%s'\nrun 'atomfp --help' for the commands\n", given.c_str());
            } else {
                std::fprintf(stderr, "atomfp: %s\nrun 'atomfp --help' for the commands\n", error.what());
            }
            return 2;
        }
        const std::string command = "atomfp " + chosen.front()->get_name();
        std::fprintf(stderr, "%s: %s\nrun '%s --help' for the options\n", command.c_str(), error.what(), command.c_str());
        return 2;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "%s: %s\n", name.c_str(), error.what());
        return 1;
    }
}
